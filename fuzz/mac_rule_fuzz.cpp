// Rule specs from config files and the CLI. A parsed rule must describe itself in a form
// that parses back to the same rule.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tls/cert_identity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rule = provgate::tls::ParseMacRule(text);
  if (rule) {
    const std::string described = rule->Describe();
    auto again = provgate::tls::ParseMacRule(described);
    if (!again || again->Describe() != described || again->source != rule->source ||
        again->attribute != rule->attribute || again->prefix != rule->prefix || again->vendor != rule->vendor) {
      std::abort();
    }
  }
  return 0;
}
