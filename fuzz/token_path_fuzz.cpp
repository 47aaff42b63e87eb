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
    // A token that parses never survives redaction. Checked by position: the file name may
    // repeat the token's characters (and is itself redacted when it looks like a token).
    if (RedactTarget(target).rfind("/p/[redacted]/", 0) != 0) std::abort();
  } else {
    (void)RedactTarget(target);
  }
  return 0;
}
