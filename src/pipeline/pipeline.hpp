// The device-facing request pipeline: admit -> identify -> route -> limit ->
// authorize -> serve (render, encrypt), each stage in its own file below this one, with
// every decision written to the audit log before the response leaves (docs/architecture.md). Every refusal a client
// could use to learn something (unknown device, another device's file, withdrawn config, unknown file, bad path) is the
// same uniform 404 (invariant 2); only the audit record tells them apart.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "net/ip_address.hpp"
#include "pipeline/defenses.hpp"
#include "pipeline/give_back.hpp"
#include "pipeline/refusal.hpp"
#include "pipeline/render_cache.hpp"
#include "pipeline/request.hpp"
#include "pipeline/stage.hpp"
#include "render/template_set.hpp"
#include "store/device_writes.hpp"
#include "store/named_reads.hpp"
#include "store/proven_reads.hpp"
#include "vendors/vendor.hpp"

namespace provgate::pipeline {

// How fresh a device's recorded last fetch is kept: a fetch within this time of the last
// recorded one, from the same address with the same User-Agent, is not written again.
inline constexpr std::int64_t kSeenResolutionSeconds = 60;
// Devices remembered as having misused their identity (the memory is cleared when full).
inline constexpr size_t kMaxMisusedRemembered = 10000;

// A decided request: the response to send once its records are committed, and the
// last-seen update of the device it served, committed with them.
struct Outcome {
  DeviceResponse response;
  audit::AuditRecord record;
  // Lifecycle records the decision raised (certificate pinned, provisioned, password
  // delivered or removed, locked): committed with, and before, the request's record.
  std::vector<audit::AuditRecord> events;
  std::optional<store::DeviceSeen> seen;
  // The registry name of the identified device's vendor (for metrics); empty when no
  // device was identified or the registry does not know its vendor.
  std::string_view vendor;
  // Why the request was refused, when it was.
  std::optional<Refusal> refusal;
  // Whether the response waits for its records on disk (invariant 7, docs/security.md): kDurable
  // when it releases a secret (a device's own file, which carries its web-UI password and
  // SIP passwords; a key file), the request changed state (it raised events, or stored an
  // upload) or failed inside, and every uniform 404 (some change state, and refusals must
  // not differ in latency); kWindowed for secret-free files, HEAD and the other refusals
  // (401 challenges, 405, 429, 503).
  audit::Durability durability = audit::Durability::kDurable;
  // What the decision spent that only its response delivers (given back by Respond when
  // the response cannot leave).
  Spent spent;
  // Set when the decision failed inside (a 500): Respond gives back what it spent, after
  // the records that name the spending were committed.
  bool failed = false;
  // Kept for the connection's next request.
  RequestMemory memory;

  // The events, then the request's record, in commit order.
  std::vector<audit::AuditRecord> TakeRecords();
};

// The byte-identical response for every refusal.
DeviceResponse UniformNotFound();

class Pipeline {
 public:
  // `reads` answers the reads of a request whose device is proven (store::CachedStore in
  // the server); `named` the lookups of names a request merely makes (always the store, never
  // the cache); `writes` what the request changes on its device.
  Pipeline(store::ProvenReads& reads, store::NamedReads& named, store::DeviceWrites& writes,
           const vendors::Registry& vendors, const render::TemplateSet& templates, audit::AuditLog& audit,
           const Clock& clock, Defenses& defenses, PipelineOptions options);

  // Thread-safe. Never throws (internal failures become a 500 with an audit record) and
  // does not wait on the audit disk (a ban it imposes is the one blocking write): the
  // caller submits the outcome's records (its record, or TakeRecords when it raised events)
  // and answers from the completion, through Respond.
  Outcome Evaluate(const DeviceRequest& request);
  // The same into `outcome`, replacing what it held and reusing its memory: a connection
  // keeps one for its requests, so a keep-alive request allocates nothing for its response
  // body or (with the record AuditLog::Submit hands back) its audit record.
  void Evaluate(const DeviceRequest& request, Outcome& outcome);
  // The response to send once the outcome's record was committed with `committed`: a
  // decision the audit trail could lose is never acknowledged (503 instead), and what it
  // spent (Outcome::spent) is given back, so the device's next fetch delivers it. A response
  // carrying claimed passwords first releases their claim (store::DeviceWrites::
  // ReleaseClaim, a store write); one the store does not release is not sent either.
  const DeviceResponse& Respond(Outcome& outcome, const Status& committed);
  // A client-certificate handshake that failed (no certificate where one is required, an
  // untrusted, expired or revoked one): a failed authentication of its source, for the
  // scan detector. Thread-safe.
  void RecordHandshakeFailure(const net::IpAddress& client, std::string_view listener, std::string_view peer);
  // Evaluate, commit and wait (tests and tools; the listeners use the asynchronous path).
  DeviceResponse Handle(const DeviceRequest& request);
  RenderCache::Stats render_cache_stats() const { return render_cache_.stats(); }
  // Give-backs the store could not do when their response failed (GiveBacks): tried again
  // by the server every second, abandoned (and audited) at shutdown.
  void RetryGiveBacks() { give_backs_.Retry(); }
  void AbandonGiveBacks() { give_backs_.Abandon(); }
  std::size_t pending_give_backs() const { return give_backs_.pending(); }
  // Requests answered 500 because a stage failed (a store read or write, mostly).
  std::uint64_t internal_errors() const { return internal_errors_.load(std::memory_order_relaxed); }

 private:
  // The stages in order (admit, identify, route, limit, authorize, serve), each
  // returning the refusal that ends the request or handing on; fills the outcome's record,
  // events, seen and vendor. A store or audit failure is an error value that Evaluate
  // answers with a 500 and still audits.
  Result<Step<DeviceResponse>> Decide(RequestState& state, Outcome& outcome);
  // The response and audit reason of a refusal, counted by its name; a challenge's nonce is
  // bound to `channel`, the connection the request came on.
  DeviceResponse Refuse(audit::AuditRecord& record, const Refused& refused, defense::Channel channel);
  // Feeds the scan detector what the stages saw and bans the source when it crosses a
  // threshold (the ban's record is written at once, durably). Each event is fed once and
  // every resulting ban is tried; the first failure is returned.
  Status ActOnScanSignals(RequestState& state);
  Status ScanEvent(const net::IpAddress& client, defense::ScanEvent event, std::string_view mac,
                   std::string_view listener, std::string_view peer);
  Status BanForScan(const defense::ScanSignal& signal, TimePoint now, std::string_view listener, std::string_view peer);
  // A device's own credential asked for another device's file (counted for the scan
  // detector): counted, alerted and recorded once per scan window, and the device locked
  // where the tenant says so and the request could otherwise have been served.
  Status MisusedIdentity(RequestState& state, const Identity& id, const core::MacAddress& named);
  bool RecentlyMisused(const core::MacAddress& mac, std::int64_t now);
  // Gives back what a response that never left had spent (Outcome::spent), then forgets it.
  void GiveBack(Spent& spent, const std::string& cause);

  audit::AuditLog& audit_;
  const Clock& clock_;
  Defenses& defenses_;
  const PipelineOptions options_;
  RenderCache render_cache_;
  const StageDeps deps_;  // the parts above, as the stages take them
  GiveBacks give_backs_;
  // Devices whose credential asked for another device's file recently (MAC -> unix time):
  // such a device loses its exemption from a ban on its source. Bounded.
  std::mutex misuse_mu_;
  std::unordered_map<std::string, std::int64_t> misused_;
  std::atomic<std::uint64_t> internal_errors_{0};
};

}  // namespace provgate::pipeline
