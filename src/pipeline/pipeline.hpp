// The device-facing request pipeline of DESIGN.md: identify -> authorize -> route ->
// render -> respond, with every decision written to the audit log before the response
// leaves. Every refusal a client could use to learn something (unknown device, another
// device's file, withdrawn config, unknown file, bad path) is the same uniform 404
// (invariant 2); only the audit record tells them apart.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "audit/audit_log.hpp"
#include "defense/tokens.hpp"
#include "net/ip_address.hpp"
#include "pipeline/defenses.hpp"
#include "pipeline/file_name.hpp"
#include "pipeline/render_cache.hpp"
#include "base/clock.hpp"
#include "pipeline/request.hpp"
#include "pipeline/withheld.hpp"
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

struct PipelineOptions {
  std::string path_prefix = "/";          // per listener in a later step; files live right under it
  std::string provisioning_url;            // rendered into configs for periodic re-checks
  size_t render_cache_files = 10000;       // RenderCache entries; 0 = render every request
  // Devices served nothing because their configs fail the policy linter; null = none.
  std::shared_ptr<WithheldDevices> withheld;
};

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
  // Whether the response waits for its records on disk (DESIGN.md invariant 7): kDurable
  // when it releases a secret (a device's own file, which carries its web-UI password and
  // SIP passwords; a key file), the request changed state (it raised events, or stored an
  // upload) or failed inside, and every uniform 404 (some change state, and refusals must
  // not differ in latency); kWindowed for secret-free files, HEAD and the other refusals
  // (401 challenges, 405, 429, 503).
  audit::Durability durability = audit::Durability::kDurable;
  // What the decision spent that only its response delivers: passwords claimed and a
  // config key's plain copy marked sent, at `at`. Given back when the response cannot
  // leave (Respond). `device_id` 0: nothing.
  struct Spent {
    std::int64_t device_id = 0;
    std::string mac;
    std::int64_t at = 0;
    std::vector<int> lines;
    bool config_key = false;
  } spent;

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
           const vendors::Registry& vendors, const render::TemplateSet& templates,
           audit::AuditLog& audit, const Clock& clock, Defenses& defenses, PipelineOptions options);

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
  // spent (Outcome::spent) is given back, so the device's next fetch delivers it.
  const DeviceResponse& Respond(Outcome& outcome, const Status& committed);
  // A client-certificate handshake that failed (no certificate where one is required, an
  // untrusted, expired or revoked one): a failed authentication of its source, for the
  // scan detector. Thread-safe.
  void RecordHandshakeFailure(const net::IpAddress& client, std::string_view listener,
                              std::string_view peer);
  // Evaluate, commit and wait (tests and tools; the listeners use the asynchronous path).
  DeviceResponse Handle(const DeviceRequest& request);
  RenderCache::Stats render_cache_stats() const { return render_cache_.stats(); }
  // Requests answered 500 because a stage failed (a store read or write, mostly).
  std::uint64_t internal_errors() const { return internal_errors_.load(std::memory_order_relaxed); }

 private:
  struct Identity {
    core::IdentityStrength strength = core::IdentityStrength::kNone;
    // Never null; the fleet cache's own object when read through it, never changed.
    std::shared_ptr<const core::Device> device;
  };
  using Identified = std::variant<Identity, DeviceResponse>;
  // What a request asks of its device's vendor: a file to render, a key file, an upload
  // slot, or nothing the vendor knows. `mac` is the MAC the name carries, if any.
  struct Target {
    std::optional<vendors::FileRoute> file;
    std::optional<vendors::KeyFileRoute> key_file;
    std::optional<vendors::UploadRoute> upload;
    std::optional<core::MacAddress> mac;
  };
  // The request's state while it is decided. `events` are the lifecycle records the
  // decision raises (committed with, and before, the request's record).
  struct Context {
    const DeviceRequest& request;
    const net::IpAddress& client;
    std::int64_t now;
    audit::AuditRecord& record;
    std::vector<audit::AuditRecord>& events;
    // False for HEAD: it is answered like GET but changes nothing (no pin, no password
    // claimed or wiped, no transition, no last-seen).
    bool side_effects = true;
    // Set by a stage whose response releases a secret or that changed state without an
    // event: the response then waits for its record on disk (Outcome::durability).
    bool& durable;
    Outcome::Spent& spent;
  };

  // The stages, in the order DESIGN.md gives them. Each returns a refusal (a response) or
  // lets the request through; a store or audit failure is an error value that Evaluate
  // answers with a 500 and still audits. Fills the outcome's record, events, seen and
  // vendor; `body_memory`: an empty string whose memory a served file's body may take;
  // `durable`: see Context::durable.
  Result<DeviceResponse> Decide(const DeviceRequest& request, const net::IpAddress& client, Outcome& outcome,
                                std::string& body_memory, bool& durable);
  // identify.cpp: the device the request proves to be, by the listener's allowed methods in
  // order of strength, or the refusal (uniform 404 or digest challenge).
  Result<Identified> Identify(
      const Context& ctx, const std::optional<defense::TokenPath>& token, const std::string& file_name);
  Result<Identified> IdentifyByDigest(const Context& ctx);
  Result<Identified> IdentifyByBasic(const Context& ctx);
  DeviceResponse Challenge(audit::AuditRecord& record, std::string_view reason, bool stale);
  std::optional<core::MacAddress> MacNamedBy(std::string_view file_name) const;
  // authorize.cpp: lifecycle and window, then the tenant's policy, then identity hygiene
  // (User-Agent, pin, anomalies). nullopt lets the request through.
  Result<std::optional<DeviceResponse>> Authorize(const Context& ctx, const Identity& id,
                                                  const core::Tenant& tenant,
                                                  const vendors::UserAgentInfo& ua);
  // A device's own credential asked for another device's file (the caller counted it for
  // the scan detector): counted, alerted and recorded once per scan window, and the device
  // locked where the tenant says so and the request could otherwise have been served.
  Status MisusedIdentity(const Context& ctx, const Identity& id, const core::MacAddress& named);
  bool RecentlyMisused(const core::MacAddress& mac, std::int64_t now);
  // Gives back what a response that never left had spent (Outcome::Spent), then forgets it.
  void GiveBack(Outcome::Spent& spent);
  // serve.cpp: the answer for an authorized request.
  Result<DeviceResponse> Upload(const Context& ctx, const core::Device& device,
                                const vendors::UploadRoute& slot, const std::string& file_name);
  Result<DeviceResponse> KeyFile(const Context& ctx, const core::Device& device);
  Result<DeviceResponse> ServeFile(const Context& ctx, const vendors::Vendor& vendor,
                                   const vendors::FileRoute& route, const core::Device& device,
                                   const core::Tenant& tenant, const std::string& file_name,
                                   std::uint64_t generation, std::string& body_memory);
  // Feeds the scan detector and bans the source when it crosses a threshold.
  Status ScanEvent(const net::IpAddress& client, defense::ScanEvent event, std::string_view mac,
                   audit::AuditRecord& record);
  // These change the store at once and add their lifecycle record to `ctx.events`.
  Status Lock(const Context& ctx, const core::Device& device, const std::string& why,
              nlohmann::json detail);
  Status RecordTransition(const Context& ctx, const core::Device& device, core::DeviceState from,
                          core::DeviceState to, const std::string& cause);
  void LifecycleEvent(const Context& ctx, const core::Device& device, const std::string& what,
                      nlohmann::json detail);
  // Both set `stored_password` when a line had a password in the store.
  Result<std::vector<core::Line>> LinesWithoutPasswords(const core::Device& device, bool& stored_password);
  // Applies the tenant's password policy: wipes confirmed deliveries, claims the undelivered
  // passwords this file carries (atomically), and returns the lines with exactly the
  // passwords this response may carry.
  Result<std::vector<core::Line>> LinesWithDeliverablePasswords(
      const Context& ctx, const core::Device& device, const core::Tenant& tenant,
      const render::Template& tpl, const vendors::FileRoute& route, const std::string& file_name,
      bool& stored_password);
  // The indexes of the lines with an undelivered password whose password the file would
  // carry: it is rendered once with a random marker in place of each.
  std::vector<int> CarriedPasswordLines(const core::Device& device, const core::Tenant& tenant,
                                        const render::Template& tpl, const vendors::FileRoute& route,
                                        const std::string& file_name,
                                        const std::vector<core::Line>& lines) const;

  store::ProvenReads& reads_;
  store::NamedReads& named_;
  store::DeviceWrites& writes_;
  const vendors::Registry& vendors_;
  const render::TemplateSet& templates_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Defenses& defenses_;
  PipelineOptions options_;
  RenderCache render_cache_;
  // Devices whose credential asked for another device's file recently (MAC -> unix time):
  // such a device loses its exemption from a ban on its source. Bounded.
  std::mutex misuse_mu_;
  std::unordered_map<std::string, std::int64_t> misused_;
  std::atomic<std::uint64_t> internal_errors_{0};
};



}  // namespace provgate::pipeline
