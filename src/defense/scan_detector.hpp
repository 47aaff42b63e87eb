// Scan detection (invariant 6, docs/security.md): per source address, and optionally per /24 or /64
// aggregate, counts distinct unknown or wrong MACs and failed authentications in a sliding
// window, and signals once when a threshold is crossed. Authenticated traffic never reaches
// it, so legitimate devices behind a busy NAT address do not count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "net/ip_address.hpp"

namespace provgate::defense {

enum class ScanEvent : std::uint8_t {
  kUnknownMac,  // a MAC (from the path or a credential) that names no device
  kWrongMac,    // a real device's MAC asked for by someone who is not that device
  kFailedAuth,  // wrong token, wrong digest/Basic password, certificate of another device
};

struct ScanThresholds {
  int distinct_macs = 20;  // distinct unknown/wrong MACs in the window; 0 disables
  int failed_auths = 20;   // failed authentications in the window; 0 disables
};

struct ScanDetectorOptions {
  Seconds window{600};
  ScanThresholds per_address;
  // Aggregates: one attacker often holds a whole IPv4 /24 or IPv6 /64. Prefix 0 disables.
  int v4_aggregate_prefix = 24;
  int v6_aggregate_prefix = 64;
  ScanThresholds per_aggregate{100, 100};
  // Sources tracked (addresses and aggregates together); least recently active forgotten.
  size_t max_sources = 100000;
};

struct ScanSignal {
  net::Cidr source;    // the host (/32, /128) or the aggregate that crossed a threshold
  std::string reason;  // "20 distinct unknown or wrong MACs in 600 s"
};

// Thread-safe (one mutex; only unauthenticated failures get here).
class ScanDetector {
 public:
  // kInvalidArgument for a non-positive window, negative thresholds, aggregate prefixes
  // outside 0..32 / 0..128, or max_sources 0.
  static Result<std::unique_ptr<ScanDetector>> Create(ScanDetectorOptions options);

  // Records one event from `source` (`mac`: canonical MAC for the MAC events, ignored for
  // kFailedAuth) and returns the sources that crossed a threshold with it (host first, then
  // aggregate). A source that signals starts counting again from zero, so it signals once
  // per crossing; the caller bans it.
  std::vector<ScanSignal> Record(const net::IpAddress& source, ScanEvent event, std::string_view mac, TimePoint now);

  size_t tracked_sources() const;

 private:
  struct Tally {
    std::map<std::string, TimePoint, std::less<>> macs;  // distinct MAC -> last seen
    std::deque<TimePoint> failures;
    std::list<net::Cidr>::iterator lru;
  };
  explicit ScanDetector(const ScanDetectorOptions& options) : options_(options) {}
  std::optional<ScanSignal> RecordLocked(const net::Cidr& key, const ScanThresholds& limits, ScanEvent event,
                                         std::string_view mac, TimePoint now);

  ScanDetectorOptions options_;
  mutable std::mutex mu_;
  std::map<net::Cidr, Tally> tallies_;
  std::list<net::Cidr> lru_;  // most recently active first
};

}  // namespace provgate::defense
