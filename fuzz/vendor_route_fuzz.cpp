// Every built-in vendor's Route and ParseUserAgent against arbitrary bytes: no crash, and
// the invariants the pipeline relies on hold (kDevice routes carry a MAC, kCommon never).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vendors/vendor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const provgate::vendors::Registry registry = provgate::vendors::BuiltinVendors();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& name : registry.Names()) {
    const provgate::vendors::Vendor* v = registry.Find(name);
    if (auto route = v->Route(text)) {
      const bool device = route->scope == provgate::vendors::FileScope::kDevice;
      if (device != route->mac.has_value() || route->template_name.empty()) std::abort();
      // Routed names are short fixed grammars without path syntax.
      if (text.size() > 32 || text.find_first_of("/\\%") != std::string_view::npos) std::abort();
      // Encryption describes only routes the vendor itself returned; a required scheme
      // always names the variable holding the key.
      if (auto scheme = v->Encryption(*route); scheme && scheme->key_variable.empty()) std::abort();
    }
    if (auto upload = v->RouteUpload(text)) {
      // Uploads are bounded and never share a name with a generated file.
      if (upload->max_bytes == 0 || upload->max_bytes > 16u * 1024 * 1024 || v->Route(text)) std::abort();
    }
    if (auto key_file = v->RouteKeyFile(text)) {
      if (key_file->protected_file.empty() || v->Route(text)) std::abort();
    }
    auto info = v->ParseUserAgent(text);
    if (info.model.size() > text.size() || info.firmware.size() > text.size()) std::abort();
  }
  return 0;
}
