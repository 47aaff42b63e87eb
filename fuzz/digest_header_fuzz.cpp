#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/clock.hpp"
#include "defense/digest.hpp"
#include "defense/redact.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace provgate::defense;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const provgate::ManualClock clock(provgate::FromUnix(1'800'000'000));
  static NonceManager nonces(clock, NonceManagerOptions{});
  if (auto c = ParseDigestAuthorization(text)) {
    const DigestRequest req{"GET", c->uri, c->realm, {DigestAlgorithm::kSha256, DigestAlgorithm::kMd5}, Channel::kTls};
    // A random HA1 must never verify, whatever the header says.
    if (VerifyDigest(*c, req, DummyHa1(c->algorithm), nonces) == DigestOutcome::kOk) std::abort();
  }
  if (auto b = ParseBasicAuthorization(text)) {
    if (b->user.empty()) std::abort();
  }
  const std::string redacted = RedactAuthorization(text);
  if (redacted.size() > 64 + 40) std::abort();
  return 0;
}
