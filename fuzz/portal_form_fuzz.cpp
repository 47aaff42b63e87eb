// Portal form bodies and Cookie fields arrive before authentication (the sign-in form): the
// parsers must survive anything, and what they accept must hold their promises.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "portal/form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto form = provgate::portal::ParseForm(text)) {
    if (form->size() > provgate::portal::kMaxFormFields) std::abort();
    for (const auto& [name, value] : *form) {
      for (const std::string* s : {&name, &value}) {
        for (char c : *s) {
          const auto u = static_cast<unsigned char>(c);
          if ((u < 0x20 && c != '\t' && c != '\r' && c != '\n') || u == 0x7f) std::abort();
        }
      }
    }
  }
  // The same bytes as Cookie field lines, split at the first newline.
  const auto nl = text.find('\n');
  std::vector<std::string> lines{std::string(text.substr(0, nl))};
  if (nl != std::string_view::npos) lines.emplace_back(text.substr(nl + 1));
  if (auto v = provgate::portal::FindCookie(lines, "pg_session")) {
    if (v->find(';') != std::string::npos) std::abort();
  }
  return 0;
}
