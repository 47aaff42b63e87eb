#include "store/device_writes.hpp"

#include "crypto/random.hpp"

namespace provgate::store {
namespace {

// This process's half of every claim id it makes: 64 random bits, hex, chosen once.
const std::string& ProcessClaimPrefix() {
  static const std::string prefix = [] {
    const auto bytes = crypto::RandomBytes(8);
    return crypto::HexEncode(bytes.data(), bytes.size());
  }();
  return prefix;
}

}  // namespace

std::string NewClaimId() {
  const auto bytes = crypto::RandomBytes(8);
  return ProcessClaimPrefix() + crypto::HexEncode(bytes.data(), bytes.size());
}

bool IsOwnClaim(std::string_view claim) { return claim.starts_with(ProcessClaimPrefix()); }

}  // namespace provgate::store
