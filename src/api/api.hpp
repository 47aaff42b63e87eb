// The admin REST API (/api/v1, docs/api.md, api/openapi.json) and the operator endpoints
// beside it (/metrics, /healthz, /readyz): one request in, one response out, no sockets.
// The request path reads top to bottom (Api::Handle): parse the target -> find the route
// -> check its query parameters -> authenticate (Authorization: Bearer, one field only) ->
// per-key rate limit -> role check -> handler (service::Admin / service::Queries, scoped to
// the key's tenant) -> admin audit record, durable before the response, for every request
// that may change state.
//
// Security contract: secrets (SIP passwords, URL tokens, digest passwords, config keys, API
// keys) appear only in the response of the one POST/PUT that creates them, never in a GET,
// list, log or audit record; an object of another tenant answers exactly as an absent one
// (404); keys are accepted only in the Authorization header; unknown or malformed
// parameters and body fields are a 400 naming them; no route changes state on GET.
// Thread-safe: handlers may run concurrently on several admin threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/auth_throttle.hpp"
#include "api/http_types.hpp"
#include "api/problem.hpp"
#include "api/throttled_check.hpp"
#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "defense/rate_limiter.hpp"
#include "render/template_set.hpp"
#include "service/api_keys.hpp"
#include "store/operator_store.hpp"
#include "store/store.hpp"
#include "vendors/vendor.hpp"

namespace provgate::api {

// What a role may do (Api::Routes lists each route's permission).
enum class Permission {
  kPublic,   // no key: the OpenAPI document, health
  kMetrics,  // any platform-scoped key
  kRead,     // tenants, devices, lines, variables, bans
  kAuditRead,
  kDeviceWrite,  // add, import, lines, variables, credentials, repin, retire
  kSupport,      // reactivate, unlock
  kPlatform,     // add tenants, tenant policy, assign stock, bans
};
bool RoleAllows(service::Role role, Permission p);
std::string_view PermissionName(Permission p);

struct ApiOptions {
  size_t max_json_bytes = 1 << 20;  // JSON bodies
  // CSV inventory imports: streamed, so memory does not grow with this (service/inventory.hpp).
  size_t max_import_bytes = 256 << 20;
  // Origins allowed to call from a browser (exact match); empty = no CORS headers at all.
  std::vector<std::string> cors_origins;
  defense::RateLimit per_key{20.0, 100.0};  // requests per key
  AuthThrottleOptions auth_failures;
  // Where CSV imports are kept, by content hash (never a served path); empty = not kept.
  std::filesystem::path imports_dir;
};

// Cheap readings of the running server for /metrics and /readyz, supplied by the composition
// root; any may be empty (tests).
struct ServerProbes {
  // Appends Prometheus text-format families (with # HELP/# TYPE) of the device plane.
  std::function<void(std::string&)> metrics;
  // Ok when every listener is bound and serving.
  std::function<Status()> listeners_ready;
  // Ok when the audit log can be written.
  std::function<Status()> audit_ready;
};

struct ApiDeps {
  store::Store& store;
  store::OperatorStore& operator_store;
  audit::AuditLog& audit;
  const vendors::Registry& vendors;
  const render::TemplateSet& templates;
  std::string provisioning_url;
  const Clock& clock;
  ServerProbes probes;
};

// A request whose route takes its body as it arrives (the inventory import): the listener
// hands it each piece of the body in order, then asks for the answer. Not thread-safe; the
// Api must outlive it.
class StreamedRequest {
 public:
  virtual ~StreamedRequest() = default;
  // The next bytes of the body. A body found bad is remembered for Finish to answer; the
  // pieces after that are dropped unread.
  virtual void Write(std::string_view bytes) = 0;
  // The body ended: the answer, after the request's admin audit record.
  virtual ApiResponse Finish() = 0;
};

// Whether and how the listener reads a request's body (Api::AdmitBody).
struct BodyAdmission {
  std::uint64_t limit = 0;  // 0: not admitted, the request is answered without reading it
  bool streamed = false;    // true: through Api::Open; false: whole, in ApiRequest::body
};

// One route: what the OpenAPI document must describe, and the route check compares.
struct RouteInfo {
  std::string method;
  std::string path;  // OpenAPI template, e.g. /api/v1/devices/{mac}
  Permission permission;
};

class Api {
 public:
  static Result<std::unique_ptr<Api>> Create(ApiDeps deps, ApiOptions options);
  ~Api();

  // A request with its whole body (or none). A route that streams its body gets it as one
  // piece.
  ApiResponse Handle(const ApiRequest& request);

  // How the listener may read the body of the request (header fields only, body empty): not
  // at all unless it carries exactly one valid key and its route takes a body; then up to
  // that route's limit, whole or streamed. Audits nothing (Handle and Open audit the request).
  BodyAdmission AdmitBody(const ApiRequest& head);

  // For a request whose body AdmitBody admitted as streamed: the answer when the header alone
  // decides it (a refusal), or the request that takes the body piece by piece. Passes the
  // same checks, in the same order, as Handle.
  std::variant<ApiResponse, std::unique_ptr<StreamedRequest>> Open(const ApiRequest& head);

  // Every route served, for the OpenAPI route check.
  static std::vector<RouteInfo> Routes();

  // The OpenAPI document served at /api/v1/openapi.json (api/openapi.json, built in).
  static std::string_view OpenApiDocument();

  struct Context;
  struct Route;
  using Handler = ApiResponse (Api::*)(Context&);
  using StreamHandler = std::unique_ptr<StreamedRequest> (Api::*)(Context&);

 private:
  class Exchange;

  Api(ApiDeps deps, ApiOptions options, std::unique_ptr<defense::RateLimiter> limiter);
  ApiResponse Dispatch(Context& ctx);
  // Everything before the handler: route, query parameters, body form, key, rate limit, role.
  // The answer when the request stops there.
  std::optional<ApiResponse> Admit(Context& ctx);
  // The handler's answer, after the admin audit record of a request that may change state.
  ApiResponse Conclude(Context& ctx, ApiResponse response);
  // Authentication, throttling and the audit of failures; nullopt when the request may go on.
  std::optional<ApiResponse> Authenticate(Context& ctx);
  // The admin record of an authenticated request (actor, role, route, status, the object's
  // tenant, before and after). kDurable: written before returning (its failure is returned);
  // kWindowed (refusals): submitted, the response does not wait.
  Status AuditAction(const Context& ctx, const ApiResponse& response, audit::Durability durability);
  void AddCors(const ApiRequest& request, ApiResponse& response) const;
  // The answer to a request whose target does not parse, before any route is looked for.
  ApiResponse TargetProblem(const ApiRequest& request, const Error& e) const;
  ApiResponse Preflight(const ApiRequest& request) const;
  void Count(const Context& ctx, int status, std::chrono::steady_clock::duration took);

  // Handlers (handlers_*.cpp), one per route.
  ApiResponse OpenApi(Context& ctx);
  ApiResponse Healthz(Context& ctx);
  ApiResponse Readyz(Context& ctx);
  ApiResponse Metrics(Context& ctx);
  ApiResponse ListTenants(Context& ctx);
  ApiResponse AddTenant(Context& ctx);
  ApiResponse GetTenant(Context& ctx);
  ApiResponse UpdateTenant(Context& ctx);
  ApiResponse GetTenantVars(Context& ctx);
  ApiResponse ChangeTenantVars(Context& ctx);
  ApiResponse ListDevices(Context& ctx);
  ApiResponse AddDevice(Context& ctx);
  std::unique_ptr<StreamedRequest> ImportDevices(Context& ctx);
  ApiResponse GetDevice(Context& ctx);
  ApiResponse AssignDevice(Context& ctx);
  ApiResponse ReactivateDevice(Context& ctx);
  ApiResponse RetireDevice(Context& ctx);
  ApiResponse UnlockDevice(Context& ctx);
  ApiResponse RepinDevice(Context& ctx);
  ApiResponse IssueCredential(Context& ctx);
  ApiResponse RevokeCredential(Context& ctx);
  ApiResponse ListLines(Context& ctx);
  ApiResponse SetLine(Context& ctx);
  ApiResponse GetDeviceVars(Context& ctx);
  ApiResponse ChangeDeviceVars(Context& ctx);
  ApiResponse QueryAudit(Context& ctx);
  ApiResponse ListBans(Context& ctx);
  ApiResponse AddBan(Context& ctx);
  ApiResponse RemoveBan(Context& ctx);

  static const std::vector<Route>& RouteTable();

  ApiDeps deps_;
  ApiOptions options_;
  std::unique_ptr<defense::RateLimiter> limiter_;
  AuthThrottle throttle_;
  // /readyz's store check: the database is asked at most every 2 s, however many balancers
  // poll.
  ThrottledCheck store_ready_;
  // Admin request counters and latency, for /metrics.
  struct Stats;
  std::unique_ptr<Stats> stats_;
};

}  // namespace provgate::api
