#include "metrics/histogram.hpp"

#include <fmt/format.h>

namespace provgate::metrics {
namespace {

// The bounds in nanoseconds, so that Observe compares integers.
constexpr std::array<std::int64_t, Histogram::kBuckets> BoundsNs() {
  std::array<std::int64_t, Histogram::kBuckets> ns{};
  // The bounds are positive, so adding 0.5 rounds; std::lround is not constexpr.
  for (size_t i = 0; i < ns.size(); ++i) {
    ns[i] = static_cast<std::int64_t>(kLatencyBounds[i] * 1e9 + 0.5);  // NOLINT(bugprone-incorrect-roundings)
  }
  return ns;
}
constexpr auto kBoundsNs = BoundsNs();

}  // namespace

void Histogram::Observe(std::chrono::nanoseconds took) {
  const std::int64_t ns = took.count() < 0 ? 0 : took.count();
  size_t i = 0;
  while (i < kBuckets && ns > kBoundsNs[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

Histogram::Reading Histogram::Read() const {
  Reading r;
  std::uint64_t running = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    r.cumulative[i] = running;
  }
  r.count = running + counts_[kBuckets].load(std::memory_order_relaxed);
  r.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return r;
}

std::string EscapeLabelValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void AppendFamilyHeader(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void AppendHistogram(std::string& out, std::string_view name, std::string_view labels,
                     const Histogram::Reading& reading) {
  const std::string_view sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < Histogram::kBuckets; ++i) {
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, kLatencyBounds[i], reading.cumulative[i]);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, reading.count);
  const std::string braces = labels.empty() ? std::string() : fmt::format("{{{}}}", labels);
  out += fmt::format("{}_sum{} {}\n", name, braces, reading.sum_seconds);
  out += fmt::format("{}_count{} {}\n", name, braces, reading.count);
}

}  // namespace provgate::metrics
