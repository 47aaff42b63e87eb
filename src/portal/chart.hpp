// Bar charts drawn server-side as inline SVG for the fleet overview: markup only (no script,
// no style attribute: colours are SVG presentation attributes), so the portal's CSP stays as
// it is. Every label goes through Html escaping. Each chart comes with a table of the same
// numbers for readers who cannot see the picture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace provgate::portal {

// One horizontal bar: `values` are its stacked segments, one per series of the chart.
struct ChartBar {
  std::string label;
  std::vector<std::int64_t> values;
};

struct Chart {
  std::string id;                   // the element id of the <svg> (the table gets id + "-table")
  std::string title;                // the accessible name of the picture and the table's caption
  std::vector<std::string> series;  // one name per stacked segment; one series draws no legend
  std::vector<ChartBar> bars;       // top to bottom
};

// At most this many series get a colour of their own; callers fold the rest into one.
inline constexpr size_t kMaxChartSeries = 8;

// The chart as an <svg role="img"> element: one row per bar with its label, its stacked
// segments scaled to the largest bar total and the total written after it; a legend of the
// series when there are several. Negative values count as zero; a chart with no bars or only
// zeros draws its rows empty. A segment's colour is that of its series index modulo
// kMaxChartSeries.
std::string BarChartSvg(const Chart& chart);

// The same numbers as a <table>: a row per bar, a column per series and a total column.
std::string ChartTable(const Chart& chart);

}  // namespace provgate::portal
