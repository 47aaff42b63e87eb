#include "api/problem.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>

namespace provgate::api {

int StatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

Problem FromError(const Error& e, const std::vector<std::string>& fields) {
  Problem p;
  p.status = StatusOf(e.code);
  // Internal failures are logged by the caller; the client learns only that one happened.
  p.detail = e.code == ErrorCode::kInternal ? "internal error" : e.message;
  if (e.code == ErrorCode::kInvalidArgument) {
    for (const auto& f : fields) {
      std::string spoken = f;
      for (auto& c : spoken) c = c == '_' ? ' ' : c;
      if (e.message.starts_with(f + ":") || e.message.starts_with(spoken + " ") ||
          e.message.starts_with(spoken + ":")) {
        p.errors.push_back({f, e.message});
        break;
      }
    }
  }
  return p;
}

Problem FieldProblem(std::string field, std::string detail, int status) {
  Problem p;
  p.status = status;
  p.detail = field + ": " + detail;
  p.errors.push_back({std::move(field), std::move(detail)});
  return p;
}

ApiResponse ToResponse(const Problem& p) {
  nlohmann::json j = {
      {"type", "about:blank"},
      {"title", std::string(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(p.status)))},
      {"status", p.status},
      {"detail", p.detail}};
  if (!p.errors.empty()) {
    auto& errors = j["errors"] = nlohmann::json::array();
    for (const auto& e : p.errors) errors.push_back({{"field", e.field}, {"detail", e.detail}});
  }
  ApiResponse r;
  r.status = p.status;
  r.content_type = "application/problem+json";
  // Replacement, not an exception, for text that is not UTF-8.
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

ApiResponse JsonResponse(int status, const nlohmann::json& j) {
  ApiResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

ApiResponse Failed(const Error& e, const std::vector<std::string>& fields) {
  if (e.code == ErrorCode::kInternal || e.code == ErrorCode::kUnavailable) {
    spdlog::error("admin API: {}", e.message);
  }
  return ToResponse(FromError(e, fields));
}

}  // namespace provgate::api
