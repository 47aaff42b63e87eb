// The lint parsers (key = value, XML attributes, XML leaf elements) against arbitrary bytes:
// no crash, and every setting they return is no larger than the input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lint/config_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto syntax : {provgate::lint::Syntax::kKeyValue, provgate::lint::Syntax::kXmlAttributes,
                      provgate::lint::Syntax::kXmlElements}) {
    auto settings = provgate::lint::ParseConfig(text, syntax);
    if (!settings) continue;
    for (const auto& s : *settings) {
      if (s.key.size() > size || s.value.size() > size) std::abort();
    }
  }
  return 0;
}
