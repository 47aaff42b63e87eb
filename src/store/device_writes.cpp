#include "store/device_writes.hpp"

#include "crypto/random.hpp"

namespace provgate::store {

std::string NewClaimId() {
  const auto bytes = crypto::RandomBytes(16);
  return crypto::HexEncode(bytes.data(), bytes.size());
}

}  // namespace provgate::store
