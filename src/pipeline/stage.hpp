// What the pipeline's stages share: the server's parts they use (StageDeps), the state of
// the request being decided (RequestState), and the effects a stage may have on a device
// (a lifecycle record, a lock, a state transition). Below pipeline.hpp: nothing here decides
// an order, and no stage includes pipeline.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>
#include <nlohmann/json.hpp>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "base/result.hpp"
#include "core/mac_address.hpp"
#include "core/model.hpp"
#include "defense/scan_detector.hpp"
#include "net/ip_address.hpp"
#include "pipeline/defenses.hpp"
#include "pipeline/refusal.hpp"
#include "pipeline/render_cache.hpp"
#include "pipeline/request.hpp"
#include "pipeline/withheld.hpp"
#include "render/template_set.hpp"
#include "store/device_writes.hpp"
#include "store/named_reads.hpp"
#include "store/proven_reads.hpp"
#include "vendors/vendor.hpp"

namespace provgate::pipeline {

struct PipelineOptions {
  std::string path_prefix = "/";      // files live right under it
  std::string provisioning_url;       // rendered into configs for periodic re-checks
  size_t render_cache_files = 10000;  // RenderCache entries; 0 = render every request
  // Devices served nothing because their configs fail the policy linter; null = none.
  std::shared_ptr<WithheldDevices> withheld;
};

// The server's parts, shared by every request. `proven` answers the reads of a device a
// verified certificate proves (the fleet cache in the server); `named` the lookups of names a
// request merely makes up, which must cost the same whether the name exists or not (always
// the store, never the cache); `writes` what a request changes on its device.
struct StageDeps {
  store::ProvenReads& proven;
  store::NamedReads& named;
  store::DeviceWrites& writes;
  const vendors::Registry& vendors;
  const render::TemplateSet& templates;
  const Clock& clock;
  Defenses& defenses;
  const PipelineOptions& options;
  RenderCache& render_cache;
};

// What a decision spent that only its response delivers: passwords claimed and a config
// key's plain copy marked sent, under the request's claim id (store::NewClaimId). Given back
// when the response cannot leave. Filled before the store is asked (Spend), so a claim whose
// outcome is unknown (the store failed mid-write) is given back too. `device_id` 0: nothing.
struct Spent {
  std::int64_t device_id = 0;
  std::string mac;
  std::string claim;
  std::vector<int> lines;   // claimed, as far as the request knows
  bool config_key = false;  // marked sent, as far as the request knows
};

// A proven device and how strongly it was proven.
struct Identity {
  core::IdentityStrength strength = core::IdentityStrength::kNone;
  // Never null; the fleet cache's own object when read through it, never changed.
  std::shared_ptr<const core::Device> device;
};

// An event for the scan detector, acted on (and possibly a ban raised) after the stage that
// saw it returned.
struct ScanSignal {
  defense::ScanEvent event;
  std::string mac;  // the MAC the request named, when it named one
};

// Memory a connection keeps from one request to the next (in its Outcome), so that a
// keep-alive request builds its keys and body without a heap allocation. The stages reach
// it through RequestState; nothing outside the pipeline sees it.
struct RequestMemory {
  std::string body;  // a served file's body: the previous response's memory
  std::string rate_key;
  std::string cache_key;
};

// One request while it is decided.
struct RequestState {
  const DeviceRequest& request;
  const net::IpAddress& client;
  std::int64_t now;
  // False for HEAD: it is answered like GET but changes nothing (no pin, no password claimed
  // or wiped, no transition, no last-seen).
  bool side_effects;
  audit::AuditRecord& record;
  // Lifecycle records the decision raises, committed with and before the request's record.
  std::vector<audit::AuditRecord>& events;
  Spent& spent;
  RequestMemory& memory;
  // Set by a stage whose response releases a secret or that changed state without an event:
  // the response then waits for its record on disk (Outcome::durability).
  bool durable = false;
  boost::container::small_vector<ScanSignal, 2> scan;

  void Scan(defense::ScanEvent event, std::string_view mac = {}) { scan.push_back({event, std::string(mac)}); }
};

// Whether `client` is inside the tenant's source ranges (parsed by the store when it read
// the tenant).
bool InTenantRanges(const core::Tenant& tenant, const net::IpAddress& client);

// Whether the tenant lets a device proven with `strength` be served on the request's
// connection: over TLS always; over plain HTTP only where the tenant allows it, and only with
// HTTP digest (a URL token there would be a credential in clear, replayable over TLS).
bool TransportAllowed(const core::Tenant& tenant, const DeviceRequest& request, core::IdentityStrength strength);

// The device of a MAC a request merely names (digest or Basic user, URL), or null when there
// is none. Always read from the store, so that a cached device and an unknown name cost the
// same read.
Result<std::shared_ptr<const core::Device>> FindNamed(store::NamedReads& from, const core::MacAddress& mac);
// The device of a MAC proven by a verified certificate, read through the fleet cache, or null
// when there is none.
Result<std::shared_ptr<const core::Device>> FindProven(store::ProvenReads& from, const core::MacAddress& mac);

// The claim id under which the request spends `device`'s secrets: made on first use, and
// noted in `state.spent` before any claim is tried.
const std::string& Spend(RequestState& state, const core::Device& device);

// Effects on a device. Each adds its lifecycle record to `state.events`; Lock and
// RecordTransition change the store at once.
void LifecycleEvent(const StageDeps& deps, RequestState& state, const core::Device& device, const std::string& what,
                    nlohmann::json detail);
Status Lock(const StageDeps& deps, RequestState& state, const core::Device& device, const std::string& why,
            nlohmann::json detail);
// Compare-and-set: of racing requests, only the one that made the transition records it.
Status RecordTransition(const StageDeps& deps, RequestState& state, const core::Device& device, core::DeviceState from,
                        core::DeviceState to, const std::string& cause);

}  // namespace provgate::pipeline
