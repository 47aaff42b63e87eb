// JSON request bodies of the admin API: parsed without exceptions into an object, with a
// nesting limit and duplicate keys refused (which of two values counts would be a guess),
// then read field by field with errors that name the field. Unknown fields are errors too:
// a misspelt option silently ignored is a setting the operator believes in and does not
// have. Trust level: authenticated but untrusted input (fuzzed: fuzz/api_json_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/problem.hpp"
#include "base/result.hpp"

namespace provgate::api {

inline constexpr int kMaxJsonDepth = 16;

// An object, or a problem (400) saying what is wrong with the body.
Result<nlohmann::json> ParseJsonObject(std::string_view body);

class BodyReader {
 public:
  explicit BodyReader(const nlohmann::json& object) : object_(object) {}

  // Absent fields read as nothing; a present field of the wrong type or range is an error.
  std::optional<std::string> String(const char* name, size_t max_bytes = 256);
  std::optional<std::int64_t> Int(const char* name, std::int64_t min, std::int64_t max);
  std::optional<bool> Bool(const char* name);
  std::optional<std::vector<std::string>> Strings(const char* name, size_t max_items = 256, size_t max_bytes = 256);
  // Records that the field must be present.
  void Require(const char* name);
  // Marks a field the caller reads itself as known.
  void Known(const char* name) { known_.insert(name); }

  // Every field error, unknown fields included (call after reading every known field).
  std::optional<Problem> Finish();

 private:
  const nlohmann::json* Get(const char* name);
  void Fail(const char* name, std::string detail);
  const nlohmann::json& object_;
  std::set<std::string, std::less<>> known_;
  std::vector<FieldError> errors_;
};

}  // namespace provgate::api
