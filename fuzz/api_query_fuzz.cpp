// Admin API request targets arrive before authentication: the target parser and the typed
// query getters must survive anything, and what they accept must be well formed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto target = provgate::api::ParseTarget(text);
  if (!target) return 0;
  if (target->segments.empty() || target->segments.size() > provgate::api::kMaxPathSegments) std::abort();
  if (target->query.size() > provgate::api::kMaxQueryParams) std::abort();
  for (const auto& s : target->segments) {
    if (s.empty() || s == "." || s == "..") std::abort();
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x20) std::abort();
    }
  }
  for (size_t i = 0; i < target->query.size(); ++i) {
    for (size_t j = i + 1; j < target->query.size(); ++j) {
      if (target->query[i].first == target->query[j].first) std::abort();
    }
  }
  provgate::api::QueryReader q(target->query);
  for (const auto& [name, value] : target->query) {
    (void)q.Int(name, 1, 1000);
    (void)q.Bool(name);
    (void)q.Time(name);
    (void)q.Text(name);
  }
  return 0;
}
