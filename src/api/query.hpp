// Request targets of the admin API, parsed strictly: the path split into percent-decoded
// segments, the query into unique name=value parameters. Trust level: everything here is
// client input, before authentication; malformed input is an error naming the parameter,
// never a crash (fuzzed: fuzz/api_query_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/problem.hpp"
#include "base/result.hpp"

namespace provgate::api {

inline constexpr size_t kMaxTargetBytes = 4096;
inline constexpr size_t kMaxQueryParams = 32;
inline constexpr size_t kMaxPathSegments = 16;

// How PercentDecode reads what is not an escape.
enum class PercentForm {
  kQuery,      // '+' stays '+'; no control character in the result
  kFormField,  // application/x-www-form-urlencoded: '+' is a space; tab, CR and LF allowed
};

// Percent-decodes `text`: nothing for a bad escape, NUL or another control character in the
// result (but those `form` allows).
std::optional<std::string> PercentDecode(std::string_view text, PercentForm form = PercentForm::kQuery);

struct Target {
  std::vector<std::string> segments;                       // "/api/v1/devices" -> api, v1, devices
  std::vector<std::pair<std::string, std::string>> query;  // in order, names unique
};

// The path must start with '/', have no empty, "." or ".." segment (a trailing '/' is an
// empty segment), and decode cleanly. Query names are 1-32 of [a-z0-9_]; in values '+' is a
// space. A repeated name is an error: which one counts would be a guess.
Result<Target> ParseTarget(std::string_view target);

// Typed access to the query parameters a route allows; every error is a Problem naming
// the parameter.
class QueryReader {
 public:
  explicit QueryReader(const std::vector<std::pair<std::string, std::string>>& query) : query_(query) {}

  const std::string* Find(std::string_view name) const;
  std::string Text(std::string_view name, size_t max_bytes = 256);
  std::optional<std::int64_t> Int(std::string_view name, std::int64_t min, std::int64_t max);
  std::optional<bool> Bool(std::string_view name);
  // Unix seconds, or RFC 3339 UTC ("2025-01-31T12:00:00Z", optionally with milliseconds).
  std::optional<std::int64_t> Time(std::string_view name);

  // The first problem met by a getter, if any.
  const std::optional<Problem>& problem() const { return problem_; }

 private:
  void Fail(std::string_view name, std::string detail);
  const std::vector<std::pair<std::string, std::string>>& query_;
  std::optional<Problem> problem_;
};

}  // namespace provgate::api
