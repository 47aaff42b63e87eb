#include "pipeline/pipeline.hpp"

#include <spdlog/spdlog.h>

#include "core/lifecycle.hpp"
#include "pipeline/render_file.hpp"

namespace provgate::pipeline {
namespace {

constexpr size_t kMaxFileNameLength = 128;

bool IsSafeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

DeviceResponse Deny(audit::AuditRecord& record, std::string reason) {
  record.decision = "deny";
  record.reason = std::move(reason);
  return UniformNotFound();
}

}  // namespace

DeviceResponse UniformNotFound() {
  return DeviceResponse{404, "text/plain; charset=utf-8", "404 Not Found\n", false};
}

std::optional<std::string> ExtractFileName(std::string_view target, std::string_view prefix) {
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view name = path.substr(prefix.size());
  if (name.size() > kMaxFileNameLength || name == "." || name == "..") return std::nullopt;
  for (char c : name) {
    if (!IsSafeChar(c)) return std::nullopt;  // '/', '\\', '%', NUL, ... never reach a router
  }
  return std::string(name);
}

Pipeline::Pipeline(store::Store& store, const vendors::Registry& vendors,
                   const render::TemplateSet& templates, audit::AuditLog& audit,
                   const Clock& clock, PipelineOptions options)
    : store_(store),
      vendors_(vendors),
      templates_(templates),
      audit_(audit),
      clock_(clock),
      options_(std::move(options)) {}

DeviceResponse Pipeline::Handle(const DeviceRequest& request) {
  audit::AuditRecord record;
  record.time = request.received;
  record.listener = request.listener;
  record.peer = request.peer_ip + ":" + std::to_string(request.peer_port);
  record.method = request.method;
  record.file = request.target;
  record.user_agent = request.user_agent;
  record.identity_source = request.cert ? "client-cert" : "none";
  record.cert_subject = request.cert ? request.cert->subject : request.cert_subject;
  if (request.cert) record.mac = request.cert->mac.str();

  DeviceResponse response;
  try {
    response = Decide(request, record);
  } catch (const std::exception& e) {
    spdlog::error("request pipeline failed: {}", e.what());
    record.decision = "error";
    record.reason = std::string("internal error: ") + e.what();
    response = DeviceResponse{500, "text/plain; charset=utf-8", "500 Internal Server Error\n", false};
  }
  record.status = response.status;
  record.bytes = response.body.size();
  record.duration_ms =
      std::chrono::duration<double, std::milli>(clock_.Now() - request.received).count();
  // Never acknowledge a decision the audit trail could lose.
  if (auto st = audit_.Write(record, audit::Durability::kDurable); !st) {
    spdlog::error("audit write failed, refusing request: {}", st.error().message);
    return DeviceResponse{503, "text/plain; charset=utf-8", "503 Service Unavailable\n", false};
  }
  return response;
}

DeviceResponse Pipeline::Decide(const DeviceRequest& request, audit::AuditRecord& record) {
  if (request.method != "GET" && request.method != "HEAD") {
    record.decision = "deny";
    record.reason = "method not allowed";
    return DeviceResponse{405, "text/plain; charset=utf-8", "405 Method Not Allowed\n", true};
  }
  const auto file_name = ExtractFileName(request.target, options_.path_prefix);
  if (!file_name) return Deny(record, "bad path");

  // identify: only a verified certificate names a device; the path is a claim.
  if (!request.cert) {
    return Deny(record, request.cert_problem.empty() ? "no identity" : request.cert_problem);
  }
  auto device = store_.FindDevice(request.cert->mac);
  if (!device) {
    if (device.error().code != ErrorCode::kNotFound) throw ErrorException(device.error());
    return Deny(record, "unknown device");
  }
  record.device = device->mac.str();

  // route: the device's own vendor module decides what the file name means.
  const vendors::Vendor* vendor = vendors_.Find(device->vendor);
  if (vendor == nullptr) return Deny(record, "unknown vendor " + device->vendor);
  const auto route = vendor->Route(*file_name);
  if (!route) return Deny(record, "unknown file");
  if (route->mac) record.url_mac = route->mac->str();
  if (route->scope == vendors::FileScope::kDevice && route->mac != device->mac) {
    return Deny(record, "mac mismatch");
  }

  // authorize: lifecycle state and provisioning window, evaluated now (no cron job).
  const std::int64_t now = ToUnix(clock_.Now());
  const core::DeviceState state = core::EffectiveState(*device, now);
  if (state != device->state) {
    RecordTransition(*device, device->state, state, now, "provisioning window ended without a fetch");
  }
  switch (state) {
    case core::DeviceState::kStock: return Deny(record, "device not assigned");
    case core::DeviceState::kRetired: return Deny(record, "device retired");
    case core::DeviceState::kExpired: return Deny(record, "window expired");
    case core::DeviceState::kAssigned:
    case core::DeviceState::kProvisioned: break;
  }
  if (!device->tenant_id) return Deny(record, "device not assigned");

  const render::Template* tpl = templates_.Find(device->vendor, route->template_name);
  if (tpl == nullptr) {
    throw ErrorException(Error::Internal("no template " + device->vendor + "/" + route->template_name));
  }
  auto tenant = store_.GetTenant(*device->tenant_id);
  if (!tenant) throw ErrorException(tenant.error());

  std::vector<core::Line> lines;
  if (route->scope == vendors::FileScope::kDevice) {
    // Only files that can carry a password take part in delivery and confirmation.
    auto l = tpl->References("password") ? LinesWithDeliverablePasswords(*device, *tenant, now)
                                         : LinesWithoutPasswords(*device);
    if (!l) throw ErrorException(l.error());
    lines = std::move(*l);
  }
  std::string body = RenderFile(templates_, *tpl, *route, *device, *tenant, lines, *file_name,
                                options_.provisioning_url);
  if (route->scope == vendors::FileScope::kDevice && device->state == core::DeviceState::kAssigned) {
    RecordTransition(*device, core::DeviceState::kAssigned, core::DeviceState::kProvisioned, now,
                     "first authenticated fetch");
  }
  record.decision = "allow";
  record.reason = route->scope == vendors::FileScope::kDevice ? "device file" : "common file";
  return DeviceResponse{200, route->content_type, std::move(body), false};
}

void Pipeline::RecordTransition(const core::Device& device, core::DeviceState from,
                                core::DeviceState to, std::int64_t now, const std::string& cause) {
  auto won = store_.TransitionState(device.id, from, to, now);
  if (!won) throw ErrorException(won.error());
  if (!*won) return;  // a concurrent request made (and recorded) this transition
  LifecycleEvent(device, std::string(core::DeviceStateName(to)),
                 {{"from", core::DeviceStateName(from)}, {"cause", cause}});
}

void Pipeline::LifecycleEvent(const core::Device& device, const std::string& what,
                              nlohmann::json detail) {
  audit::AuditRecord r;
  r.time = clock_.Now();
  r.kind = "lifecycle";
  r.actor = "device";
  r.decision = "info";
  r.reason = what;
  r.device = device.mac.str();
  r.detail = std::move(detail);
  if (auto st = audit_.Write(r, audit::Durability::kDurable); !st) throw ErrorException(st.error());
}

Result<std::vector<core::Line>> Pipeline::LinesWithoutPasswords(const core::Device& device) {
  PG_TRY(auto lines, store_.ListLines(device.id));
  for (auto& l : lines) l.password.reset();
  return lines;
}

Result<std::vector<core::Line>> Pipeline::LinesWithDeliverablePasswords(const core::Device& device,
                                                                        const core::Tenant& tenant,
                                                                        std::int64_t now) {
  if (tenant.password_policy == core::PasswordPolicy::kAlways) return store_.ListLines(device.id);

  // Confirmation first: a password delivered earlier is wiped once this request proves the
  // device has it (its next fetch, or the grace period after delivery).
  PG_TRY(auto wiped, store_.WipeDeliveredPasswords(device.id, core::ConfirmedDeliveryCutoff(tenant, now)));
  if (!wiped.empty()) {
    LifecycleEvent(device, "password removed",
                   {{"lines", wiped},
                    {"cause", tenant.confirm_grace_seconds == 0 ? "confirmed by the device's next fetch"
                                                                 : "grace period after delivery ended"}});
  }
  // Then the atomic claim: of concurrent requests, exactly one gets each undelivered password.
  PG_TRY(auto claimed, store_.ClaimPasswords(device.id, now));
  if (!claimed.empty()) {
    std::vector<int> indexes;
    for (const auto& l : claimed) indexes.push_back(l.index);
    LifecycleEvent(device, "password delivered",
                   {{"lines", indexes}, {"policy", core::PasswordPolicyName(tenant.password_policy)}});
  }
  PG_TRY(auto lines, store_.ListLines(device.id));
  if (tenant.password_policy == core::PasswordPolicy::kDeliverOnce) {
    for (auto& l : lines) {
      l.password.reset();
      for (const auto& c : claimed) {
        if (c.index == l.index) l.password = c.password;
      }
    }
  }
  return lines;
}

}  // namespace provgate::pipeline
