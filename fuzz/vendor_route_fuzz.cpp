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
    }
    auto info = v->ParseUserAgent(text);
    if (info.model.size() > text.size() || info.firmware.size() > text.size()) std::abort();
  }
  return 0;
}
