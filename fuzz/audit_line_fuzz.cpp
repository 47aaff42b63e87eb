// Lines of the audit file are read back when the server catches up its store copy after a
// crash: whatever the file holds (a cut line, an edited one), parsing must not crash, and a
// line that parses keeps its exact text and required fields. The same bytes as a request's
// User-Agent and file (what a client controls) must make a line that parses back, each
// field exactly as nlohmann's own escaping writes that string. Sealed into a hash chain, such a
// line still parses, and the chain verifier accepts it; whatever the input, the verifier
// (which reads what an attacker edits) must not crash.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/chain.hpp"
#include "audit/chain_verifier.hpp"
#include "audit/record_format.hpp"
#include "crypto/random.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool crypto_ready = provgate::crypto::InitCrypto().has_value();
  if (!crypto_ready) std::abort();
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
  {
    provgate::audit::ChainVerifier verifier({});
    size_t pos = 0;
    std::int64_t number = 0;
    for (size_t nl; (nl = input.find('\n', pos)) != std::string_view::npos; pos = nl + 1) {
      verifier.Add(++number, input.substr(pos, nl - pos));
    }
    verifier.Add(++number, input.substr(pos));
    (void)verifier.Finish();
  }
  {
    provgate::audit::ChainWriter chain("");
    std::string sealed;
    const auto position = chain.Next();
    r.AppendJson(sealed, "00aa", 1, nullptr, &position);
    chain.Seal(sealed);
    provgate::audit::ChainVerifier verifier({});
    verifier.Add(1, sealed);
    const auto report = verifier.Finish();
    if (!provgate::audit::ParseStoredLine(sealed) || report.tampered() || report.records != 1) std::abort();
  }
  // Each field as nlohmann alone would have written the string (its escaping and its
  // replacement of invalid UTF-8), or absent when empty.
  const auto j = nlohmann::json::parse(line);
  const auto want =
      input.empty() ? nlohmann::json()
                    : nlohmann::json::parse(
                          nlohmann::json(r.user_agent).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  for (const char* key : {"user_agent", "file"}) {
    const auto it = j.find(key);
    if (input.empty() ? it != j.end() : it == j.end() || *it != want) std::abort();
  }
  return 0;
}
