// Template::Parse must never crash, whatever an operator's file contains; when it parses,
// rendering it against a fixed context (nested objects, lists, all scalar types) in both
// formats must not crash either.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "render/template.hpp"

namespace {

const nlohmann::json& Context() {
  static const nlohmann::json ctx = nlohmann::json::parse(R"({
    "name": "Eve\"/><x a='1'>&\nk = v", "n": 42, "f": 1.5, "t": true, "no": false, "z": null,
    "empty": "", "none": [],
    "device": {"mac": "001565aabbcc", "model": "T54W"},
    "lines": [{"index": 1, "user": "1001", "password": "p\u0000w"}, {"index": 2, "is_tls": true}],
    "deep": {"a": {"b": {"c": ["x", "y"]}}}
  })");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view src(reinterpret_cast<const char*>(data), size);
  auto tpl = provgate::render::Template::Parse(src, "fuzz");
  if (!tpl) {
    // Every error carries "name:line: ".
    if (tpl.error().message.rfind("fuzz:", 0) != 0) std::abort();
    return 0;
  }
  for (auto format : {provgate::render::Format::kKeyValue, provgate::render::Format::kXml}) {
    (void)tpl->Render(Context(), format);
  }
  return 0;
}
