#include "defense/scan_detector.hpp"

namespace provgate::defense {

Result<std::unique_ptr<ScanDetector>> ScanDetector::Create(ScanDetectorOptions options) {
  if (options.window.count() <= 0) return Error::InvalidArgument("scan window must be > 0");
  for (const auto* t : {&options.per_address, &options.per_aggregate}) {
    if (t->distinct_macs < 0 || t->failed_auths < 0) {
      return Error::InvalidArgument("scan thresholds must be >= 0");
    }
  }
  if (options.v4_aggregate_prefix < 0 || options.v4_aggregate_prefix > 32 || options.v6_aggregate_prefix < 0 ||
      options.v6_aggregate_prefix > 128) {
    return Error::InvalidArgument("scan aggregate prefix out of range");
  }
  if (options.max_sources == 0) return Error::InvalidArgument("scan max_sources must be > 0");
  return std::unique_ptr<ScanDetector>(new ScanDetector(options));
}

std::vector<ScanSignal> ScanDetector::Record(const net::IpAddress& source, ScanEvent event, std::string_view mac,
                                             TimePoint now) {
  std::vector<ScanSignal> out;
  std::lock_guard lock(mu_);
  if (auto s = RecordLocked(net::Cidr::Host(source), options_.per_address, event, mac, now)) {
    out.push_back(std::move(*s));
  }
  const int prefix = source.is_v4() ? options_.v4_aggregate_prefix : options_.v6_aggregate_prefix;
  if (prefix > 0 && prefix < source.bit_length()) {
    if (auto net = net::Cidr::Of(source, prefix)) {
      if (auto s = RecordLocked(*net, options_.per_aggregate, event, mac, now)) {
        out.push_back(std::move(*s));
      }
    }
  }
  return out;
}

std::optional<ScanSignal> ScanDetector::RecordLocked(const net::Cidr& key, const ScanThresholds& limits,
                                                     ScanEvent event, std::string_view mac, TimePoint now) {
  const bool mac_event = event != ScanEvent::kFailedAuth;
  const int threshold = mac_event ? limits.distinct_macs : limits.failed_auths;
  if (threshold == 0) return std::nullopt;

  auto it = tallies_.find(key);
  if (it == tallies_.end()) {
    if (tallies_.size() >= options_.max_sources) {
      tallies_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    it = tallies_.emplace(key, Tally{{}, {}, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Tally& t = it->second;
  const TimePoint cutoff = now - options_.window;
  // Slide the window: events at or before the cutoff no longer count.
  std::erase_if(t.macs, [&](const auto& kv) { return kv.second <= cutoff; });
  while (!t.failures.empty() && t.failures.front() <= cutoff) t.failures.pop_front();

  size_t count = 0;
  if (mac_event) {
    // Callers pass canonical MACs; the cut bounds memory if one ever passes raw input.
    t.macs.insert_or_assign(std::string(mac.substr(0, 64)), now);
    count = t.macs.size();
  } else {
    t.failures.push_back(now);
    count = t.failures.size();
  }
  // Both containers stay below the threshold: reaching it signals and resets.
  if (count < static_cast<size_t>(threshold)) return std::nullopt;
  ScanSignal signal{key, std::to_string(count) +
                             (mac_event ? " distinct unknown or wrong MACs" : " failed authentications") + " in " +
                             std::to_string(options_.window.count()) + " s"};
  lru_.erase(t.lru);
  tallies_.erase(it);
  return signal;
}

size_t ScanDetector::tracked_sources() const {
  std::lock_guard lock(mu_);
  return tallies_.size();
}

}  // namespace provgate::defense
