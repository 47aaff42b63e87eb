// Latency histogram with bounded relative error, for the load generator's reports.
#pragma once

#include <array>
#include <cstdint>

namespace provgate::bench {

// Log-linear buckets over microseconds: values below kSubBuckets are exact; above, each
// power of two is split into kSubBuckets/2 equal buckets, so a reported percentile is at most
// 1/32 (~3 %) above the true value. Fixed size, no allocation: recording is a few
// instructions on the generator's hot path. Not thread-safe; one per event loop.
class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 6;
  static constexpr std::uint64_t kSubBuckets = 1ULL << kSubBucketBits;  // 64
  static constexpr int kMaxExponent = 40;                               // 2^40 us ~ 12 days; larger values are clamped

  void Record(std::uint64_t micros);
  void Merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  double Mean() const;

  // The smallest bucket upper bound with at least ceil(q * count) values at or below it,
  // never above max(). q in [0, 1]; 0 for an empty histogram.
  std::uint64_t Quantile(double q) const;

  // Exposed for tests: the bucket holding a value and the largest value in a bucket.
  static std::size_t BucketIndex(std::uint64_t micros);
  static std::uint64_t BucketUpperBound(std::size_t index);

 private:
  static constexpr std::size_t kBuckets =
      kSubBuckets + static_cast<std::size_t>(kMaxExponent - kSubBucketBits + 1) * (kSubBuckets / 2);
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = ~0ULL;
  long double sum_ = 0;
};

}  // namespace provgate::bench
