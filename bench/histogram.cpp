#include "bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace provgate::bench {

std::size_t LatencyHistogram::BucketIndex(std::uint64_t micros) {
  if (micros < kSubBuckets) return static_cast<std::size_t>(micros);
  const std::uint64_t limit = (1ULL << (kMaxExponent + 1)) - 1;
  micros = std::min(micros, limit);
  // exponent >= kSubBucketBits; the top kSubBucketBits bits select the sub-bucket, whose
  // leading bit is always 1, so only kSubBuckets/2 of them are used per power of two.
  const int exponent = static_cast<int>(std::bit_width(micros)) - 1;
  const int shift = exponent - kSubBucketBits + 1;
  const std::uint64_t sub = (micros >> shift) - kSubBuckets / 2;
  return static_cast<std::size_t>(kSubBuckets + static_cast<std::uint64_t>(shift - 1) * (kSubBuckets / 2) + sub);
}

std::uint64_t LatencyHistogram::BucketUpperBound(std::size_t index) {
  if (index < kSubBuckets) return index;
  const std::uint64_t rel = index - kSubBuckets;
  const std::uint64_t shift = rel / (kSubBuckets / 2) + 1;
  const std::uint64_t sub = rel % (kSubBuckets / 2) + kSubBuckets / 2;
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::Record(std::uint64_t micros) {
  ++buckets_[BucketIndex(micros)];
  ++count_;
  max_ = std::max(max_, micros);
  min_ = std::min(min_, micros);
  sum_ += static_cast<long double>(micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
  sum_ += other.sum_;
}

double LatencyHistogram::Mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

std::uint64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto wanted =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= wanted) return std::min(BucketUpperBound(i), max_);
  }
  return max_;
}

}  // namespace provgate::bench
