// Lines of the audit file are read back when the server catches up its store copy after a
// crash: whatever the file holds (a cut line, an edited one), parsing must not crash, and a
// line that parses keeps its exact text and required fields.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/audit_log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  if (auto l = provgate::audit::ParseStoredLine(line)) {
    const auto& e = l->event;
    if (e.json != line || e.kind.empty() || e.decision.empty() || l->seq < 0) std::abort();
  }
  return 0;
}
