// RFC 9457 problem details: every error of the admin API is application/problem+json with
// a status, a title, a human detail and, where input was at fault, the fields that were.
// Detail texts are the domain layer's operator-facing messages; they never carry secrets
// or another tenant's name (the domain layer answers an object outside the caller's scope
// as an absent one).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_types.hpp"
#include "base/result.hpp"

namespace provgate::api {

struct FieldError {
  std::string field;  // a body field, query parameter or path parameter name
  std::string detail;
};

struct Problem {
  int status = 500;
  std::string detail;
  std::vector<FieldError> errors;
};

// The HTTP status of a domain error code.
int StatusOf(ErrorCode code);
// A problem from a domain error. When the message starts with the spoken form of one of
// `fields` ("window days ..." for window_days) or names it ("limit: ..."), that field is
// the one reported.
Problem FromError(const Error& e, const std::vector<std::string>& fields = {});
Problem FieldProblem(std::string field, std::string detail, int status = 400);

ApiResponse ToResponse(const Problem& p);

// A JSON answer with `status` (invalid UTF-8 in strings replaced, never an exception).
ApiResponse JsonResponse(int status, const nlohmann::json& j);
// The problem answer for a domain error; internal and unavailable errors are also logged.
ApiResponse Failed(const Error& e, const std::vector<std::string>& fields = {});

}  // namespace provgate::api
