// The device-facing request pipeline of DESIGN.md: identify -> authorize -> route ->
// render -> respond, with every decision written to the audit log before the response
// leaves. Every refusal a client could use to learn something (unknown device, another
// device's file, withdrawn config, unknown file, bad path) is the same uniform 404
// (invariant 2); only the audit record tells them apart.
#pragma once

#include <optional>
#include <string>
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
#include "render/template_set.hpp"
#include "store/store.hpp"
#include "vendors/vendor.hpp"

namespace provgate::pipeline {

// How fresh a device's recorded last fetch is kept: a fetch within this time of the last
// recorded one, from the same address with the same User-Agent, is not written again.
inline constexpr std::int64_t kSeenResolutionSeconds = 60;

struct PipelineOptions {
  std::string path_prefix = "/";          // per listener in a later step; files live right under it
  std::string provisioning_url;            // rendered into configs for periodic re-checks
  size_t render_cache_files = 10000;       // RenderCache entries; 0 = render every request
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

  // The events, then the request's record, in commit order.
  std::vector<audit::AuditRecord> TakeRecords();
};

// The byte-identical response for every refusal.
DeviceResponse UniformNotFound();

class Pipeline {
 public:
  // `reads` answers the reads of a request whose device is proven (store::CachedStore in
  // the server); `store` everything else: writes, and lookups of names a request makes up.
  Pipeline(store::Store& store, store::Store& reads, const vendors::Registry& vendors,
           const render::TemplateSet& templates, audit::AuditLog& audit, const Clock& clock,
           Defenses& defenses, PipelineOptions options);

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
  // decision the audit trail could lose is never acknowledged (503 instead).
  static const DeviceResponse& Respond(Outcome& outcome, const Status& committed);
  // Evaluate, commit and wait (tests and tools; the listeners use the asynchronous path).
  DeviceResponse Handle(const DeviceRequest& request);
  RenderCache::Stats render_cache_stats() const { return render_cache_.stats(); }

 private:
  // Decide and its helpers report store/audit failures by throwing ErrorException; Handle
  // turns them into a 500 (or 503) and still audits the request.
  struct Identity {
    core::IdentityStrength strength = core::IdentityStrength::kNone;
    // Never null; the fleet cache's own object when read through it, never changed.
    std::shared_ptr<const core::Device> device;
  };
  // `body_memory`: an empty string whose memory a served file's body may take.
  DeviceResponse Decide(const DeviceRequest& request, const net::IpAddress& client,
                        audit::AuditRecord& record, std::optional<store::DeviceSeen>& seen,
                        std::vector<audit::AuditRecord>& events, std::string& body_memory);
  std::variant<Identity, DeviceResponse> Identify(const DeviceRequest& request,
                                                  const std::optional<defense::TokenPath>& token,
                                                  const std::string& file_name,
                                                  const net::IpAddress& client,
                                                  audit::AuditRecord& record);
  DeviceResponse Challenge(audit::AuditRecord& record, std::string reason, bool stale);
  // Feeds the scan detector and bans the source when it crosses a threshold.
  void ScanEvent(const net::IpAddress& client, defense::ScanEvent event, std::string_view mac,
                 audit::AuditRecord& record);
  std::optional<core::MacAddress> MacNamedBy(std::string_view file_name) const;
  DeviceResponse Upload(const vendors::Vendor& vendor, const core::Device& device,
                        const DeviceRequest& request, const std::string& file_name,
                        const net::IpAddress& client, audit::AuditRecord& record);
  // These change the store at once and add their lifecycle record to `events`.
  void Lock(const core::Device& device, const std::string& why, nlohmann::json detail,
            std::vector<audit::AuditRecord>& events);
  void RecordTransition(const core::Device& device, core::DeviceState from, core::DeviceState to,
                        std::int64_t now, const std::string& cause,
                        std::vector<audit::AuditRecord>& events);
  void LifecycleEvent(const core::Device& device, const std::string& what, nlohmann::json detail,
                      std::vector<audit::AuditRecord>& events);
  // Both set `stored_password` when a line had a password in the store.
  Result<std::vector<core::Line>> LinesWithoutPasswords(const core::Device& device, bool& stored_password);
  // Applies the tenant's password policy: wipes confirmed deliveries, claims undelivered
  // passwords atomically, and returns the lines with exactly the passwords this response may carry.
  Result<std::vector<core::Line>> LinesWithDeliverablePasswords(const core::Device& device,
                                                                const core::Tenant& tenant,
                                                                std::int64_t now,
                                                                std::vector<audit::AuditRecord>& events,
                                                                bool& stored_password);

  store::Store& store_;
  store::Store& reads_;
  const vendors::Registry& vendors_;
  const render::TemplateSet& templates_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Defenses& defenses_;
  PipelineOptions options_;
  RenderCache render_cache_;
};



}  // namespace provgate::pipeline
