#include "api/api.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "api/context.hpp"
#include "crypto/random.hpp"

namespace provgate::api {

struct Api::Stats {
  std::mutex mu;
  // (method, route, status) -> count
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests;
  std::map<std::string, std::uint64_t> auth_failures;  // by reason
  static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};
  std::array<std::uint64_t, kBuckets.size()> latency{};
  std::uint64_t latency_count = 0;
  double latency_sum = 0;
};

bool RoleAllows(service::Role role, Permission p) {
  using service::Role;
  switch (p) {
    case Permission::kPublic:
    case Permission::kMetrics: return true;  // kMetrics: and platform scope, checked by the caller
    case Permission::kRead: return role != Role::kAuditor;
    case Permission::kAuditRead: return role != Role::kSupport;
    case Permission::kDeviceWrite: return role == Role::kAdmin || role == Role::kTenantAdmin;
    case Permission::kSupport: return role != Role::kAuditor;
    case Permission::kPlatform: return role == Role::kAdmin;
  }
  return false;
}

std::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kPublic: return "public";
    case Permission::kMetrics: return "metrics";
    case Permission::kRead: return "read";
    case Permission::kAuditRead: return "audit-read";
    case Permission::kDeviceWrite: return "device-write";
    case Permission::kSupport: return "support";
    case Permission::kPlatform: return "platform";
  }
  return "platform";
}

const std::vector<Api::Route>& Api::RouteTable() {
  using P = Permission;
  // One route per line, as a table: clang-format would spread the longer ones over seven.
  // clang-format off
  static const std::vector<Route> routes = {
      {"GET", "/healthz", P::kPublic, &Api::Healthz, {}, 1, BodyKind::kNone},
      {"GET", "/readyz", P::kPublic, &Api::Readyz, {}, 1, BodyKind::kNone},
      {"GET", "/metrics", P::kMetrics, &Api::Metrics, {}, 1, BodyKind::kNone},
      {"GET", "/api/v1/openapi.json", P::kPublic, &Api::OpenApi, {}, 1, BodyKind::kNone},
      {"GET", "/api/v1/tenants", P::kRead, &Api::ListTenants, {}, 1, BodyKind::kNone},
      {"POST", "/api/v1/tenants", P::kPlatform, &Api::AddTenant, {}, 1, BodyKind::kJson},
      {"GET", "/api/v1/tenants/{tenant}", P::kRead, &Api::GetTenant, {}, 1, BodyKind::kNone},
      {"PATCH", "/api/v1/tenants/{tenant}", P::kPlatform, &Api::UpdateTenant, {}, 1, BodyKind::kJson},
      {"GET", "/api/v1/tenants/{tenant}/vars", P::kRead, &Api::GetTenantVars, {}, 1, BodyKind::kNone},
      {"PATCH", "/api/v1/tenants/{tenant}/vars", P::kDeviceWrite, &Api::ChangeTenantVars, {}, 5, BodyKind::kJson},
      {"GET", "/api/v1/devices", P::kRead, &Api::ListDevices,
       {"tenant", "state", "vendor", "model", "locked", "seen_since", "seen_before", "cursor", "limit"}, 1, BodyKind::kNone},
      {"POST", "/api/v1/devices", P::kDeviceWrite, &Api::AddDevice, {}, 1, BodyKind::kJson},
      {"POST", "/api/v1/devices/import", P::kDeviceWrite, &Api::ImportDevices, {}, 20, BodyKind::kCsv},
      {"GET", "/api/v1/devices/{mac}", P::kRead, &Api::GetDevice, {}, 1, BodyKind::kNone},
      {"POST", "/api/v1/devices/{mac}/assign", P::kPlatform, &Api::AssignDevice, {}, 1, BodyKind::kJson},
      {"POST", "/api/v1/devices/{mac}/reactivate", P::kSupport, &Api::ReactivateDevice, {}, 1, BodyKind::kNone},
      {"POST", "/api/v1/devices/{mac}/retire", P::kDeviceWrite, &Api::RetireDevice, {}, 1, BodyKind::kNone},
      {"POST", "/api/v1/devices/{mac}/unlock", P::kSupport, &Api::UnlockDevice, {}, 1, BodyKind::kNone},
      {"POST", "/api/v1/devices/{mac}/repin", P::kDeviceWrite, &Api::RepinDevice, {}, 1, BodyKind::kNone},
      {"POST", "/api/v1/devices/{mac}/credentials/{kind}", P::kDeviceWrite, &Api::IssueCredential, {}, 1, BodyKind::kNone},
      {"DELETE", "/api/v1/devices/{mac}/credentials/{kind}", P::kDeviceWrite, &Api::RevokeCredential, {}, 1, BodyKind::kNone},
      {"GET", "/api/v1/devices/{mac}/lines", P::kRead, &Api::ListLines, {}, 1, BodyKind::kNone},
      {"PUT", "/api/v1/devices/{mac}/lines/{index}", P::kDeviceWrite, &Api::SetLine, {}, 1, BodyKind::kJson},
      {"GET", "/api/v1/devices/{mac}/vars", P::kRead, &Api::GetDeviceVars, {}, 1, BodyKind::kNone},
      {"PATCH", "/api/v1/devices/{mac}/vars", P::kDeviceWrite, &Api::ChangeDeviceVars, {}, 5, BodyKind::kJson},
      {"GET", "/api/v1/audit", P::kAuditRead, &Api::QueryAudit,
       {"device", "tenant", "actor", "decision", "since", "until", "cursor", "limit"}, 2, BodyKind::kNone},
      {"GET", "/api/v1/bans", P::kPlatform, &Api::ListBans, {}, 1, BodyKind::kNone},
      {"POST", "/api/v1/bans", P::kPlatform, &Api::AddBan, {}, 1, BodyKind::kJson},
      {"DELETE", "/api/v1/bans/{source}", P::kPlatform, &Api::RemoveBan, {}, 1, BodyKind::kNone},
  };
  // clang-format on
  return routes;
}

std::vector<RouteInfo> Api::Routes() {
  std::vector<RouteInfo> out;
  for (const auto& r : RouteTable()) out.push_back({r.method, r.path, r.permission});
  return out;
}

Result<std::unique_ptr<Api>> Api::Create(ApiDeps deps, ApiOptions options) {
  defense::RateLimiterOptions rate;
  rate.classes["key"] = options.per_key;
  rate.fallback = options.per_key;
  rate.max_buckets = 10'000;
  PG_TRY(auto limiter, defense::RateLimiter::Create(deps.clock, rate));
  if (options.auth_failures.max_failures < 1 || options.auth_failures.window_seconds < 1 ||
      options.auth_failures.block_seconds < 1) {
    return Error::InvalidArgument("authentication throttle settings must be positive");
  }
  return std::unique_ptr<Api>(new Api(std::move(deps), std::move(options), std::move(limiter)));
}

namespace {

// How often /readyz asks the database (ThrottledCheck): balancers poll every node several
// times a second, and a database that fails, fails for every node at once.
constexpr std::chrono::milliseconds kStoreCheckInterval{2000};

}  // namespace

Api::Api(ApiDeps deps, ApiOptions options, std::unique_ptr<defense::RateLimiter> limiter)
    : deps_(std::move(deps)),
      options_(std::move(options)),
      limiter_(std::move(limiter)),
      throttle_(options_.auth_failures),
      store_ready_([this] { return deps_.operator_store.Ping(); }, kStoreCheckInterval),
      stats_(std::make_unique<Stats>()) {}

Api::~Api() = default;

namespace {

// Path parameters of `route` in `segments`, or nothing when the path does not match.
std::optional<std::map<std::string, std::string>> MatchPath(std::string_view pattern,
                                                            const std::vector<std::string>& segments) {
  std::map<std::string, std::string> params;
  size_t i = 0;
  size_t pos = 1;
  for (;;) {
    const size_t end = pattern.find('/', pos);
    const auto part = pattern.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (i >= segments.size()) return std::nullopt;
    if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
      params.emplace(std::string(part.substr(1, part.size() - 2)), segments[i]);
    } else if (part != segments[i]) {
      return std::nullopt;
    }
    ++i;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  if (i != segments.size()) return std::nullopt;
  return params;
}

bool MediaTypeIs(std::string_view content_type, std::string_view wanted) {
  const auto semi = content_type.find(';');
  auto type = content_type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != wanted.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != wanted[i]) return false;
  }
  return true;
}

// "Bearer <token>" (scheme case-insensitive, one space); nothing for anything else.
std::optional<std::string_view> BearerToken(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::nullopt;
  }
  return value.substr(kScheme.size());
}

ApiResponse Unauthorized(std::string detail) {
  Problem p;
  p.status = 401;
  p.detail = std::move(detail);
  auto r = ToResponse(p);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"provgate-admin\"");
  return r;
}

ApiResponse TooMany(std::int64_t retry_after, std::string detail) {
  Problem p;
  p.status = 429;
  p.detail = std::move(detail);
  auto r = ToResponse(p);
  r.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(1, retry_after)));
  return r;
}

// The path alone: a query string is client text that could carry anything.
std::string PathOf(std::string_view target) { return std::string(target.substr(0, target.find('?')).substr(0, 512)); }

}  // namespace

ApiResponse Api::TargetProblem(const ApiRequest& request, const Error& e) const {
  auto r = ToResponse(FromError(e, {}));
  AddCors(request, r);
  return r;
}

ApiResponse Api::Handle(const ApiRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  auto parsed = ParseTarget(request.target);
  if (!parsed) return TargetProblem(request, parsed.error());
  Context ctx(request, std::move(*parsed));
  ApiResponse response;
  if (request.method == "OPTIONS") {
    response = Preflight(request);
  } else {
    response = Dispatch(ctx);
  }
  AddCors(request, response);
  Count(ctx, response.status, std::chrono::steady_clock::now() - started);
  return response;
}

BodyAdmission Api::AdmitBody(const ApiRequest& head) {
  auto target = ParseTarget(head.target);
  if (!target || head.authorization.size() != 1) return {};
  const Route* route = nullptr;
  for (const auto& r : RouteTable()) {
    if (r.method == head.method && MatchPath(r.path, target->segments)) route = &r;
  }
  if (route == nullptr || route->body == BodyKind::kNone) return {};
  const auto token = BearerToken(head.authorization.front());
  if (!token) return {};
  if (throttle_.SourceBlocked(head.peer_ip, ToUnix(deps_.clock.Now())) > 0) return {};
  service::ApiKeys keys(deps_.operator_store, deps_.store, deps_.audit, deps_.clock, "api");
  const auto who = keys.Authenticate(*token).principal;
  if (!who || !RoleAllows(who->role, route->permission)) return {};
  return {route->body == BodyKind::kCsv ? options_.max_import_bytes : options_.max_json_bytes,
          std::holds_alternative<StreamHandler>(route->handler)};
}

// A streamed request and everything Handle does around its handler: the context it was
// admitted with, the audit record, CORS and the metrics, once the body has ended.
class Api::Exchange final : public StreamedRequest {
 public:
  Exchange(Api& api, const ApiRequest& head, Target target, std::chrono::steady_clock::time_point started)
      : api_(api), request_(head), ctx_(request_, std::move(target)), started_(started) {}

  Context& context() { return ctx_; }
  void Start(std::unique_ptr<StreamedRequest> handler) { handler_ = std::move(handler); }

  void Write(std::string_view bytes) override { handler_->Write(bytes); }

  ApiResponse Finish() override {
    ApiResponse response = api_.Conclude(ctx_, handler_->Finish());
    api_.AddCors(request_, response);
    api_.Count(ctx_, response.status, std::chrono::steady_clock::now() - started_);
    return response;
  }

 private:
  Api& api_;
  const ApiRequest request_;  // ctx_ refers to it
  Context ctx_;
  std::unique_ptr<StreamedRequest> handler_;  // destroyed before ctx_, whose Admin it uses
  std::chrono::steady_clock::time_point started_;
};

std::variant<ApiResponse, std::unique_ptr<StreamedRequest>> Api::Open(const ApiRequest& head) {
  const auto started = std::chrono::steady_clock::now();
  auto parsed = ParseTarget(head.target);
  if (!parsed) return TargetProblem(head, parsed.error());
  auto exchange = std::make_unique<Exchange>(*this, head, std::move(*parsed), started);
  Context& ctx = exchange->context();
  auto refused = Admit(ctx);
  if (!refused && !std::holds_alternative<StreamHandler>(ctx.route->handler)) {
    spdlog::error("admin API: {} {} opened as streamed, but it takes its body whole", head.method, ctx.route->path);
    refused = ToResponse(Problem{500, "internal error", {}});
  }
  if (refused) {
    AddCors(head, *refused);
    Count(ctx, refused->status, std::chrono::steady_clock::now() - started);
    return std::move(*refused);
  }
  exchange->Start((this->*std::get<StreamHandler>(ctx.route->handler))(ctx));
  return exchange;
}

ApiResponse Api::Dispatch(Context& ctx) {
  if (auto refused = Admit(ctx)) return std::move(*refused);
  if (const auto* handler = std::get_if<Handler>(&ctx.route->handler)) return Conclude(ctx, (this->*(*handler))(ctx));
  auto streamed = (this->*std::get<StreamHandler>(ctx.route->handler))(ctx);
  streamed->Write(ctx.request.body);
  return Conclude(ctx, streamed->Finish());
}

std::optional<ApiResponse> Api::Admit(Context& ctx) {
  // Route: 404 when no pattern fits the path, 405 when one does but not for this method.
  std::string allow;
  for (const auto& route : RouteTable()) {
    auto params = MatchPath(route.path, ctx.target.segments);
    if (!params) continue;
    if (route.method != ctx.request.method) {
      allow += (allow.empty() ? "" : ", ") + std::string(route.method);
      continue;
    }
    ctx.route = &route;
    ctx.params = std::move(*params);
    break;
  }
  if (ctx.route == nullptr) {
    if (allow.empty()) return ToResponse(Problem{404, "no such resource", {}});
    auto r = ToResponse(Problem{405, "method not allowed here; allowed: " + allow, {}});
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  const Route& route = *ctx.route;

  // Query parameters: only those the route knows, each well formed. A key offered in the
  // query string is refused outright and never tried.
  for (const auto& [name, value] : ctx.target.query) {
    if (service::ApiKeyPrefix(value) || value.starts_with(service::kApiKeyMarker)) {
      return ToResponse(FieldProblem(name, "API keys are accepted only in the Authorization header"));
    }
    if (std::find(route.query.begin(), route.query.end(), name) == route.query.end()) {
      return ToResponse(FieldProblem(name, "unknown query parameter"));
    }
  }
  if (route.body == BodyKind::kNone && (!ctx.request.body.empty() || ctx.request.body_withheld)) {
    return ToResponse(Problem{400, "this request takes no body", {}});
  }
  if (route.body == BodyKind::kJson && ctx.request.body.size() > options_.max_json_bytes) {
    return ToResponse(Problem{413, fmt::format("JSON bodies are limited to {} bytes", options_.max_json_bytes), {}});
  }
  if (route.body == BodyKind::kCsv && ctx.request.body.size() > options_.max_import_bytes) {
    return ToResponse(Problem{413, fmt::format("imports are limited to {} bytes", options_.max_import_bytes), {}});
  }
  if (route.body == BodyKind::kJson && !ctx.request.body.empty() &&
      !MediaTypeIs(ctx.request.content_type, "application/json")) {
    return ToResponse(Problem{415, "the body must be application/json", {}});
  }
  if (route.body == BodyKind::kCsv && !MediaTypeIs(ctx.request.content_type, "text/csv")) {
    return ToResponse(Problem{415, "the body must be text/csv", {}});
  }

  if (route.permission != Permission::kPublic) {
    if (auto refused = Authenticate(ctx)) return *refused;
    const auto& who = *ctx.principal;
    const auto limited = limiter_->Acquire("key:" + who.key_id, route.cost);
    if (!limited.allowed) {
      ApiResponse r = TooMany(limited.retry_after_seconds, "rate limit of this API key reached");
      (void)AuditAction(ctx, r, audit::Durability::kWindowed);
      return r;
    }
    const bool platform_only = route.permission == Permission::kMetrics;
    if (!RoleAllows(who.role, route.permission) || (platform_only && who.tenant)) {
      ApiResponse r = ToResponse(Problem{403,
                                         fmt::format("role {}{} may not {} {}", service::RoleName(who.role),
                                                     who.tenant ? " (tenant-scoped)" : "", route.method, route.path),
                                         {}});
      (void)AuditAction(ctx, r, audit::Durability::kWindowed);
      return r;
    }
    if (ctx.request.body_withheld) {
      return ToResponse(Problem{413, "the body was not accepted; send it again", {}});
    }
    ctx.admin = std::make_unique<service::Admin>(deps_.store, deps_.store, deps_.store, deps_.audit, deps_.vendors,
                                                 deps_.clock, who.actor());
    if (who.tenant) ctx.admin->RestrictToTenant(*who.tenant);
  }

  return std::nullopt;
}

ApiResponse Api::Conclude(Context& ctx, ApiResponse response) {
  // Every request that may change state leaves a durable record before its response.
  if (ctx.route->method != std::string_view("GET") && ctx.principal) {
    if (auto st = AuditAction(ctx, response, audit::Durability::kDurable); !st) {
      spdlog::error("admin audit write failed: {}", st.error().message);
      return ToResponse(Problem{500, "the action could not be audited; check the audit log before retrying", {}});
    }
  }
  return response;
}

std::optional<ApiResponse> Api::Authenticate(Context& ctx) {
  const auto now = ToUnix(deps_.clock.Now());
  const auto& request = ctx.request;
  auto audit_failure = [&](const std::string& reason, const std::string& prefix) {
    nlohmann::json detail = {{"route", std::string(ctx.route->path)}, {"method", request.method}};
    if (!prefix.empty()) detail["key_id"] = prefix;
    audit::AuditRecord r = audit::InfoRecord(deps_.clock.Now(), "admin", prefix.empty() ? "api:-" : "api:" + prefix,
                                             "api authentication failed: " + reason, "", std::move(detail));
    r.decision = "deny";
    r.listener = request.listener;
    r.peer = request.peer;
    r.status = 401;
    if (auto st = deps_.audit.Record(std::move(r)); !st) spdlog::error("audit write failed: {}", st.error().message);
    std::lock_guard lock(stats_->mu);
    ++stats_->auth_failures[reason];
  };
  if (const auto wait = throttle_.SourceBlocked(request.peer_ip, now); wait > 0) {
    audit_failure("source throttled", "");
    return TooMany(wait, "too many failed authentications from this address");
  }
  if (request.authorization.empty()) {
    throttle_.RecordFailure(request.peer_ip, "", now);
    audit_failure("no credentials", "");
    if (const auto wait = throttle_.SourceBlocked(request.peer_ip, now); wait > 0) {
      return TooMany(wait, "too many failed authentications from this address");
    }
    return Unauthorized("an API key is required: Authorization: Bearer <key>");
  }
  if (request.authorization.size() > 1) {
    throttle_.RecordFailure(request.peer_ip, "", now);
    audit_failure("repeated Authorization field", "");
    return ToResponse(Problem{400, "exactly one Authorization field is allowed", {}});
  }
  const auto token = BearerToken(request.authorization.front());
  service::ApiKeys keys(deps_.operator_store, deps_.store, deps_.audit, deps_.clock, "api");
  auto outcome = token ? keys.Authenticate(*token) : service::ApiKeys::Outcome{};
  if (!outcome.principal) {
    throttle_.RecordFailure(request.peer_ip, outcome.prefix, now);
    audit_failure(token ? std::string(service::AuthFailureName(outcome.failure)) : "not a bearer credential",
                  outcome.prefix);
    if (const auto wait = throttle_.SourceBlocked(request.peer_ip, now); wait > 0) {
      return TooMany(wait, "too many failed authentications from this address");
    }
    if (!outcome.prefix.empty()) {
      if (const auto wait = throttle_.PrefixBlocked(outcome.prefix, now); wait > 0) {
        return TooMany(wait, "too many failed authentications with this key id");
      }
    }
    return Unauthorized("the API key is not valid");
  }
  ctx.principal = std::move(outcome.principal);
  return std::nullopt;
}

Status Api::AuditAction(const Context& ctx, const ApiResponse& response, audit::Durability durability) {
  const auto& who = *ctx.principal;
  nlohmann::json detail = {{"role", std::string(service::RoleName(who.role))},
                           {"method", ctx.request.method},
                           {"route", std::string(ctx.route->path)},
                           {"path", PathOf(ctx.request.target)},
                           {"status", response.status}};
  if (who.tenant) detail["key_tenant"] = who.tenant->name;
  // The object's tenant, so the tenant's auditors find the record; a scoped key's own
  // tenant when the object has none it may see.
  const auto& tenant = ctx.audit_tenant ? ctx.audit_tenant : who.tenant;
  if (tenant) detail["tenant"] = tenant->name;
  if (!ctx.before.is_null()) detail["before"] = ctx.before;
  if (!ctx.after.is_null()) detail["after"] = ctx.after;
  audit::AuditRecord r = audit::InfoRecord(deps_.clock.Now(), "admin", who.actor(),
                                           fmt::format("api {} {}", ctx.request.method, ctx.route->path),
                                           ctx.audit_device, std::move(detail));
  r.decision = response.status < 400 ? "info" : "deny";
  r.listener = ctx.request.listener;
  r.peer = ctx.request.peer;
  r.status = response.status;
  r.tenant_id = tenant ? tenant->id : 0;
  if (durability == audit::Durability::kWindowed) return deps_.audit.Record(std::move(r));
  return deps_.audit.Write(r, durability);
}

void Api::AddCors(const ApiRequest& request, ApiResponse& response) const {
  if (options_.cors_origins.empty() || request.origin.size() != 1) return;
  const auto& origin = request.origin.front();
  if (std::find(options_.cors_origins.begin(), options_.cors_origins.end(), origin) == options_.cors_origins.end()) {
    return;
  }
  response.headers.emplace_back("Access-Control-Allow-Origin", origin);
  response.headers.emplace_back("Vary", "Origin");
}

ApiResponse Api::Preflight(const ApiRequest& request) const {
  ApiResponse r;
  const bool allowed = !options_.cors_origins.empty() && request.origin.size() == 1 &&
                       std::find(options_.cors_origins.begin(), options_.cors_origins.end(), request.origin.front()) !=
                           options_.cors_origins.end();
  if (!allowed) return ToResponse(Problem{403, "cross-origin requests are not allowed from this origin", {}});
  r.status = 204;
  r.content_type.clear();
  r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
  r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
  r.headers.emplace_back("Access-Control-Max-Age", "600");
  return r;
}

void Api::Count(const Context& ctx, int status, std::chrono::steady_clock::duration took) {
  const double seconds = std::chrono::duration<double>(took).count();
  std::lock_guard lock(stats_->mu);
  // Unmatched paths are counted under one label: client text never becomes a label.
  const std::string route = ctx.route ? ctx.route->path : "unmatched";
  const std::string method = ctx.route ? ctx.route->method : "other";
  ++stats_->requests[{method, route, status}];
  for (size_t i = 0; i < Stats::kBuckets.size(); ++i) {
    if (seconds <= Stats::kBuckets[i]) ++stats_->latency[i];
  }
  ++stats_->latency_count;
  stats_->latency_sum += seconds;
}

// Metrics of the admin plane itself, then the device plane's through the probes. Reads
// memory only: a scrape costs no store query.
ApiResponse Api::Metrics(Context&) {
  std::string out;
  {
    std::lock_guard lock(stats_->mu);
    out +=
        "# HELP provgate_admin_requests_total Admin API requests by route and status.\n"
        "# TYPE provgate_admin_requests_total counter\n";
    for (const auto& [key, n] : stats_->requests) {
      const auto& [method, route, status] = key;
      out += fmt::format("provgate_admin_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n", method,
                         route, status, n);
    }
    out +=
        "# HELP provgate_admin_auth_failures_total Failed admin API authentications by reason.\n"
        "# TYPE provgate_admin_auth_failures_total counter\n";
    for (const auto& [reason, n] : stats_->auth_failures) {
      out += fmt::format("provgate_admin_auth_failures_total{{reason=\"{}\"}} {}\n", reason, n);
    }
    out +=
        "# HELP provgate_admin_request_duration_seconds Admin API request latency.\n"
        "# TYPE provgate_admin_request_duration_seconds histogram\n";
    for (size_t i = 0; i < Stats::kBuckets.size(); ++i) {
      out += fmt::format("provgate_admin_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", Stats::kBuckets[i],
                         stats_->latency[i]);
    }
    out += fmt::format("provgate_admin_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", stats_->latency_count);
    out += fmt::format("provgate_admin_request_duration_seconds_sum {}\n", stats_->latency_sum);
    out += fmt::format("provgate_admin_request_duration_seconds_count {}\n", stats_->latency_count);
  }
  if (deps_.probes.metrics) deps_.probes.metrics(out);
  ApiResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(out);
  return r;
}

ApiResponse Api::Healthz(Context&) {
  ApiResponse r;
  r.body = R"({"status":"ok"})";
  return r;
}

ApiResponse Api::Readyz(Context&) {
  nlohmann::json checks = nlohmann::json::object();
  bool ready = true;
  auto check = [&](const char* name, const Status& st) {
    checks[name] = st ? "ok" : "failing";
    if (!st) {
      ready = false;
      spdlog::warn("readiness check {} failing: {}", name, st.error().message);
    }
  };
  check("store", store_ready_());
  check("audit", deps_.probes.audit_ready ? deps_.probes.audit_ready() : Ok());
  check("listeners", deps_.probes.listeners_ready ? deps_.probes.listeners_ready() : Ok());
  ApiResponse r;
  r.status = ready ? 200 : 503;
  r.body = nlohmann::json{{"status", ready ? "ready" : "not ready"}, {"checks", checks}}.dump();
  return r;
}

ApiResponse Api::OpenApi(Context&) {
  ApiResponse r;
  r.body = std::string(OpenApiDocument());
  return r;
}

}  // namespace provgate::api
