#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "defense/redact.hpp"
#include "defense/tokens.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace provgate::defense;
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  if (auto p = ParseTokenPath(target)) {
    if (p->token.size() < kMinTokenLength || p->token.size() > kMaxTokenLength) std::abort();
    if (p->file.empty() || p->file.find('/') != std::string::npos) std::abort();
    // A token that parses never survives redaction.
    if (RedactTarget(target).find(p->token) != std::string::npos) std::abort();
  } else {
    (void)RedactTarget(target);
  }
  return 0;
}
