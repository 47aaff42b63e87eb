// Lines of the audit file are read back when the server catches up its store copy after a
// crash: whatever the file holds (a cut line, an edited one), parsing must not crash, and a
// line that parses keeps its exact text and required fields. The same bytes as a request's
// User-Agent and file (what a client controls) must make a line that parses back, with the
// text as it came or, where it was not UTF-8, with replacement characters.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/audit_log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto l = provgate::audit::ParseStoredLine(input)) {
    const auto& e = l->event;
    if (e.json != input || e.kind.empty() || e.decision.empty() || l->seq < 0) std::abort();
  }
  provgate::audit::AuditRecord r;
  r.decision = "deny";
  r.reason = "fuzz";
  r.user_agent = std::string(input);
  r.file = std::string(input);
  std::string line;
  r.AppendJson(line, "00aa", 1);
  const auto back = provgate::audit::ParseStoredLine(line);
  if (!back || back->seq != 1 || line.find('\n') != std::string::npos) std::abort();
  const auto j = nlohmann::json::parse(line);
  const std::string ua = j.value("user_agent", std::string());  // left out when empty
  if (ua != input && ua.find("\xef\xbf\xbd") == std::string::npos) std::abort();
  return 0;
}
