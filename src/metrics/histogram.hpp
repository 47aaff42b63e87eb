// Lock-free building blocks of the /metrics endpoint: a latency histogram with fixed
// buckets and the Prometheus text format (0.0.4) it is written in. Recording is a few
// relaxed atomic adds, never a lock or an allocation, so the serving threads and the audit
// committer record as they go; a scrape reads the atomics and nothing else.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace provgate::metrics {

// Bucket upper bounds (seconds, inclusive) of every latency histogram: 0.5 ms to 5 s.
inline constexpr std::array<double, 13> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                          0.1,    0.25,  0.5,    1.0,   2.5,  5.0};

// Thread-safe: Observe and Read may run on any threads at once. A Read concurrent with
// Observes sees each bucket at some recent value; its count is the sum of the buckets it
// read, so the +Inf bucket always equals the count.
class Histogram {
 public:
  static constexpr size_t kBuckets = kLatencyBounds.size();

  // Wait-free; negative durations count as zero.
  void Observe(std::chrono::nanoseconds took);

  struct Reading {
    std::array<std::uint64_t, kBuckets> cumulative{};  // observations <= kLatencyBounds[i]
    std::uint64_t count = 0;
    double sum_seconds = 0;
  };
  Reading Read() const;

 private:
  // counts_[i]: observations in (bound[i-1], bound[i]]; the last: above every bound.
  std::array<std::atomic<std::uint64_t>, kBuckets + 1> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

// `text` as a Prometheus label value: backslash, double quote and newline escaped.
std::string EscapeLabelValue(std::string_view text);

// Appends "# HELP" and "# TYPE" lines of a family.
void AppendFamilyHeader(std::string& out, std::string_view name, std::string_view type, std::string_view help);

// Appends the _bucket, _sum and _count samples of histogram `name`. `labels` is the
// sample's label list without braces, already escaped (`listener="devices"`), or empty.
void AppendHistogram(std::string& out, std::string_view name, std::string_view labels,
                     const Histogram::Reading& reading);

}  // namespace provgate::metrics
