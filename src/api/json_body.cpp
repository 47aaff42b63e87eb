#include "api/json_body.hpp"

#include <limits>

namespace provgate::api {
namespace {

// Deeper nesting than kMaxJsonDepth, found before the parser builds anything.
bool TooDeep(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(std::string_view body) {
  if (TooDeep(body))
    return Error::InvalidArgument("body: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  // One set of keys per open object, to refuse duplicates.
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    switch (event) {
      case nlohmann::json::parse_event_t::object_start: keys.emplace_back(); break;
      case nlohmann::json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case nlohmann::json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
        }
        break;
      default: break;
    }
    return true;
  };
  auto j = nlohmann::json::parse(body.begin(), body.end(), callback, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error::InvalidArgument("body: not valid JSON");
  if (duplicate) return Error::InvalidArgument("body: a field is given more than once");
  if (!j.is_object()) return Error::InvalidArgument("body: must be a JSON object");
  return Result<nlohmann::json>(boost::system::in_place_value, std::move(j));
}

const nlohmann::json* BodyReader::Get(const char* name) {
  known_.insert(name);
  auto it = object_.find(name);
  if (it == object_.end()) return nullptr;
  return &*it;
}

void BodyReader::Fail(const char* name, std::string detail) { errors_.push_back({name, std::move(detail)}); }

std::optional<std::string> BodyReader::String(const char* name, size_t max_bytes) {
  const auto* v = Get(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Fail(name, "must be a string");
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    Fail(name, "longer than " + std::to_string(max_bytes) + " bytes");
    return std::nullopt;
  }
  return s;
}

std::optional<std::int64_t> BodyReader::Int(const char* name, std::int64_t min, std::int64_t max) {
  const auto* v = Get(name);
  if (v == nullptr) return std::nullopt;
  std::optional<std::int64_t> n;
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) n = static_cast<std::int64_t>(u);
  } else if (v->is_number_integer()) {
    n = v->get<std::int64_t>();
  }
  if (!n || *n < min || *n > max) {
    Fail(name, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> BodyReader::Bool(const char* name) {
  const auto* v = Get(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(name, "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::vector<std::string>> BodyReader::Strings(const char* name, size_t max_items, size_t max_bytes) {
  const auto* v = Get(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array() || v->size() > max_items) {
    Fail(name, "must be a list of at most " + std::to_string(max_items) + " strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& e : *v) {
    if (!e.is_string() || e.get_ref<const std::string&>().size() > max_bytes) {
      Fail(name, "must be a list of strings of at most " + std::to_string(max_bytes) + " bytes");
      return std::nullopt;
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

void BodyReader::Require(const char* name) {
  known_.insert(name);
  if (object_.find(name) == object_.end()) Fail(name, "is required");
}

std::optional<Problem> BodyReader::Finish() {
  for (const auto& [key, value] : object_.items()) {
    if (!known_.contains(key)) errors_.push_back({key.substr(0, 64), "unknown field"});
  }
  if (errors_.empty()) return std::nullopt;
  Problem p;
  p.status = 400;
  p.detail = errors_.front().field + ": " + errors_.front().detail;
  p.errors = std::move(errors_);
  return p;
}

}  // namespace provgate::api
