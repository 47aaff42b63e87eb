#include "portal/chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <numeric>

#include "portal/html.hpp"

namespace provgate::portal {

namespace {

// Colour-blind-safe palette (Okabe and Ito).
constexpr std::array<std::string_view, kMaxChartSeries> kColours = {"#0072b2", "#e69f00", "#009e73", "#d55e00",
                                                                    "#cc79a7", "#56b4e9", "#f0e442", "#000000"};
constexpr int kLabelWidth = 190;
constexpr int kBarArea = 420;
constexpr int kTotalWidth = 70;
constexpr int kRowHeight = 18;
constexpr int kBarHeight = 13;
constexpr int kLegendRow = 18;

std::int64_t Total(const ChartBar& bar) {
  return std::accumulate(bar.values.begin(), bar.values.end(), std::int64_t{0},
                         [](std::int64_t sum, std::int64_t v) { return sum + std::max<std::int64_t>(v, 0); });
}

// The legend's rows above the bars: a swatch and the series name, one per series.
int DrawLegend(Html& h, const Chart& chart) {
  if (chart.series.size() < 2) return 0;
  int y = 0;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    h.Raw(fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>", kLabelWidth, y + 2,
                      kColours[i % kColours.size()]));
    h.Raw(fmt::format("<text x=\"{}\" y=\"{}\">", kLabelWidth + 18, y + 12)).Text(chart.series[i]).Raw("</text>");
    y += kLegendRow;
  }
  return y + kLegendRow / 2;
}

void DrawBar(Html& h, const ChartBar& bar, int y, std::int64_t scale) {
  h.Raw(fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">", kLabelWidth - 6, y + kBarHeight - 2))
      .Text(bar.label)
      .Raw("</text>");
  double x = kLabelWidth;
  for (size_t i = 0; i < bar.values.size(); ++i) {
    const auto v = std::max<std::int64_t>(bar.values[i], 0);
    if (v == 0 || scale == 0) continue;
    const double w = static_cast<double>(kBarArea) * static_cast<double>(v) / static_cast<double>(scale);
    h.Raw(fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>", x, y, w, kBarHeight,
                      kColours[i % kColours.size()]));
    x += w;
  }
  h.Raw(fmt::format("<text x=\"{:.1f}\" y=\"{}\">{}</text>", x + 4, y + kBarHeight - 2, Total(bar)));
}

}  // namespace

std::string BarChartSvg(const Chart& chart) {
  std::int64_t scale = 0;
  for (const auto& bar : chart.bars) scale = std::max(scale, Total(bar));
  Html body;
  const int legend = DrawLegend(body, chart);
  int y = legend;
  for (const auto& bar : chart.bars) {
    DrawBar(body, bar, y, scale);
    y += kRowHeight;
  }
  const int width = kLabelWidth + kBarArea + kTotalWidth;
  const int height = std::max(y, kRowHeight);
  Html h;
  h.Raw("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" class=\"chart\"")
      .Attr("id", chart.id)
      .Attr("aria-labelledby", chart.id + "-title")
      .Raw(fmt::format(" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" font-size=\"12\" font-family=\"sans-serif\">",
                       width, height, width, height))
      .Raw("<title")
      .Attr("id", chart.id + "-title")
      .Raw(">")
      .Text(chart.title)
      .Raw("</title>")
      .Raw(body.Take())
      .Raw("</svg>");
  return h.Take();
}

std::string ChartTable(const Chart& chart) {
  Html h;
  h.Raw("<table class=\"chart-table\"").Attr("id", chart.id + "-table").Raw("><caption>").Text(chart.title);
  h.Raw("</caption><thead><tr><th></th>");
  for (const auto& s : chart.series) h.Raw("<th>").Text(s).Raw("</th>");
  h.Raw("<th>Total</th></tr></thead><tbody>");
  for (const auto& bar : chart.bars) {
    h.Raw("<tr><th>").Text(bar.label).Raw("</th>");
    for (size_t i = 0; i < chart.series.size(); ++i) {
      h.Raw("<td>").Text(std::to_string(i < bar.values.size() ? bar.values[i] : 0)).Raw("</td>");
    }
    h.Raw("<td>").Text(std::to_string(Total(bar))).Raw("</td></tr>");
  }
  h.Raw("</tbody></table>");
  return h.Take();
}

}  // namespace provgate::portal
