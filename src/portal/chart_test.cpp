#include "portal/chart.hpp"

#include <gtest/gtest.h>

namespace provgate::portal {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

Chart States() {
  return Chart{"states", "Devices by state", {"devices"}, {{"assigned", {3}}, {"provisioned", {6}}, {"stock", {0}}}};
}

TEST(BarChartSvg, ScalesBarsToTheLargestTotal) {
  const auto svg = BarChartSvg(States());
  EXPECT_NE(svg.find("<rect x=\"190.0\" y=\"0\" width=\"210.0\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("<rect x=\"190.0\" y=\"18\" width=\"420.0\""), std::string::npos) << svg;
  EXPECT_EQ(Count(svg, "<rect"), 2U);  // a zero draws no segment
  EXPECT_NE(svg.find(">6</text>"), std::string::npos);
  EXPECT_NE(svg.find(">0</text>"), std::string::npos);
}

TEST(BarChartSvg, IsAnAccessibleImageWithoutScriptOrStyle) {
  const auto svg = BarChartSvg(States());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"", 0), 0U);
  EXPECT_NE(svg.find("aria-labelledby=\"states-title\""), std::string::npos);
  EXPECT_NE(svg.find("<title id=\"states-title\">Devices by state</title>"), std::string::npos);
  EXPECT_EQ(svg.find("style"), std::string::npos);
  EXPECT_EQ(svg.find("script"), std::string::npos);
}

TEST(BarChartSvg, StacksSeriesAndDrawsALegend) {
  const Chart c{"refusals", "Refusals", {"unknown mac", "banned"}, {{"2026-12-01", {2, 2}}, {"2026-12-02", {1, 0}}}};
  const auto svg = BarChartSvg(c);
  EXPECT_EQ(Count(svg, "fill=\"#0072b2\""), 3U);  // legend swatch + two segments
  EXPECT_EQ(Count(svg, "fill=\"#e69f00\""), 2U);  // legend swatch + one segment
  EXPECT_NE(svg.find(">unknown mac</text>"), std::string::npos);
  EXPECT_NE(svg.find(">4</text>"), std::string::npos);
}

TEST(BarChartSvg, EscapesLabelsAndTitle) {
  const std::string payload = "<script>alert(1)</script>\"'><img src=x>";
  const Chart c{"x\"y", payload, {payload, "b"}, {{payload, {1, 1}}}};
  for (const auto& out : {BarChartSvg(c), ChartTable(c)}) {
    EXPECT_EQ(out.find("<script"), std::string::npos) << out;
    EXPECT_EQ(out.find("<img"), std::string::npos) << out;
    EXPECT_NE(out.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&apos;&gt;&lt;img src=x&gt;"), std::string::npos);
  }
  EXPECT_NE(BarChartSvg(c).find("id=\"x&quot;y\""), std::string::npos);
}

TEST(BarChartSvg, DrawsEmptyAndNegativeChartsWithoutDividingByZero) {
  const Chart empty{"e", "Empty", {"n"}, {}};
  EXPECT_NE(BarChartSvg(empty).find("</svg>"), std::string::npos);
  const Chart zeros{"z", "Zeros", {"n"}, {{"a", {0}}, {"b", {-5}}}};
  const auto svg = BarChartSvg(zeros);
  EXPECT_EQ(Count(svg, "<rect"), 0U);
  EXPECT_EQ(Count(svg, ">0</text>"), 2U);
}

TEST(ChartTable, ListsEverySeriesAndTheTotal) {
  const Chart c{"r", "Refusals", {"a", "b"}, {{"day 1", {2, 3}}, {"day 2", {1}}}};
  const auto table = ChartTable(c);
  EXPECT_NE(table.find("id=\"r-table\""), std::string::npos);
  EXPECT_NE(table.find("<caption>Refusals</caption>"), std::string::npos);
  EXPECT_NE(table.find("<tr><th>day 1</th><td>2</td><td>3</td><td>5</td></tr>"), std::string::npos);
  EXPECT_NE(table.find("<tr><th>day 2</th><td>1</td><td>0</td><td>1</td></tr>"), std::string::npos);
}

}  // namespace
}  // namespace provgate::portal
