// The device plane's request metrics: requests by listener, decision and vendor, refusals
// by listener and reason, request latency and failed TLS handshakes per listener. Every
// label comes from a set fixed at start-up (the configured listeners, the vendor registry,
// the refusal names), never from what a client sent, and every counter exists from the
// start: recording a request is a handful of relaxed atomic adds, with no lock, no lookup
// by name and no allocation.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "metrics/histogram.hpp"
#include "pipeline/refusal.hpp"
#include "tls/server_context.hpp"

namespace provgate::pipeline {

enum class Decision : std::uint8_t { kAllow, kDeny, kError };
inline constexpr std::array<std::string_view, 3> kDecisionNames = {"allow", "deny", "error"};

// What a request's metrics need from its outcome, taken before its audit record goes to the
// committer (which hands back a cleared one).
struct RequestSample {
  Decision decision = Decision::kError;
  std::uint16_t vendor = 0;            // index into DeviceMetrics::vendors()
  Refusal reason = Refusal::kBadPath;  // for kDeny
};

class DeviceMetrics;

// One listener's share. Thread-safe; counting never blocks and never allocates.
class ListenerMetrics {
 public:
  ListenerMetrics(std::string name, const std::vector<std::string>& vendors);

  // `vendor`: the registry name of the identified device's vendor, empty when none; a name
  // the registry does not know counts as "none".
  // `refusal`: why a denied request was refused.
  RequestSample Classify(const audit::AuditRecord& record, std::optional<Refusal> refusal,
                         std::string_view vendor) const;
  // A request answered `took` after it was read. `committed` false: its audit commit failed
  // and it was answered 503, so it counts as an error whatever was decided.
  void Count(const RequestSample& sample, bool committed, std::chrono::nanoseconds took);
  void CountHandshakeFailure(tls::HandshakeFailure why);

  const std::string& name() const { return name_; }
  std::uint64_t requests(size_t vendor, Decision decision) const;
  std::uint64_t refusals(Refusal reason) const;
  std::uint64_t handshake_failures(tls::HandshakeFailure why) const;
  metrics::Histogram::Reading duration() const { return duration_.Read(); }

 private:
  std::string name_;
  const std::vector<std::string>& vendors_;                 // the DeviceMetrics' own, "none" last
  std::unique_ptr<std::atomic<std::uint64_t>[]> requests_;  // vendor * 3 + decision
  std::array<std::atomic<std::uint64_t>, kRefusalNames.size()> refusals_{};
  std::array<std::atomic<std::uint64_t>, tls::kHandshakeFailureKinds> handshake_failures_{};
  metrics::Histogram duration_;
};

// Every listener's share, created at start-up. Thread-safe to read and count.
class DeviceMetrics {
 public:
  // `vendors`: the registry's vendor names; "none" is added as the last. Listeners of the
  // same name share one set of series.
  DeviceMetrics(const std::vector<std::string>& listeners, std::vector<std::string> vendors);
  DeviceMetrics(const DeviceMetrics&) = delete;
  DeviceMetrics& operator=(const DeviceMetrics&) = delete;

  // Null when no listener of that name was given at construction.
  ListenerMetrics* ForListener(std::string_view name);
  const std::vector<std::unique_ptr<ListenerMetrics>>& listeners() const { return listeners_; }
  const std::vector<std::string>& vendors() const { return vendors_; }

 private:
  std::vector<std::string> vendors_;
  std::vector<std::unique_ptr<ListenerMetrics>> listeners_;
};

}  // namespace provgate::pipeline
