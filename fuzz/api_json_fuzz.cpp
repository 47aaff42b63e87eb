// Admin API JSON bodies: parsing (nesting limit, duplicate keys) and field reading must
// survive anything and never throw.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/json_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = provgate::api::ParseJsonObject(text);
  if (!body) return 0;
  if (!body->is_object()) std::abort();
  provgate::api::BodyReader r(*body);
  (void)r.String("name");
  (void)r.Int("window_days", 1, 365);
  (void)r.Bool("force");
  (void)r.Strings("ip_ranges");
  r.Require("mac");
  auto problem = r.Finish();
  if (problem && (problem->status != 400 || problem->errors.empty())) std::abort();
  return 0;
}
