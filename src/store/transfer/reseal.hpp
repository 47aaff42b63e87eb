// Re-sealing every secret of a store under a new master key, for `provgate key rotate`
// (docs/security.md). A sealed secret is a value of a BLOB column named *_enc (the schema's
// rule, store/schema/steps.cpp), so a secret column added by a later step is covered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "crypto/secret_box.hpp"
#include "store/transfer/table_access.hpp"

namespace provgate::store::transfer {

struct ResealedColumn {
  std::string table;
  std::string column;
  std::int64_t secrets = 0;
};

// Opens every sealed secret under `current` and seals it under `next`, all in one write
// transaction: afterwards every secret opens under `next` and none under `current`, or
// (on any error) nothing changed. kFailedPrecondition, naming the table and column, when a
// secret does not open under `current`.
Result<std::vector<ResealedColumn>> ResealSecrets(TableAccess& db, const crypto::SecretBox& current,
                                                  const crypto::SecretBox& next);

// One sealed value of the store and where it is, or nullopt when the store holds none.
struct SealedSample {
  std::string table;
  std::string column;
  std::vector<unsigned char> sealed;
};
Result<std::optional<SealedSample>> FindSealedSample(TableAccess& db);

// Which of the two keys the store's secrets are sealed under, judged by one sealed value
// (a reseal moves all of them at once): kNext when it opens under `next` or the store holds
// no secret, kCurrent when it opens under `current`; kFailedPrecondition when under neither.
enum class SealedUnder : std::uint8_t { kCurrent, kNext };
Result<SealedUnder> FindSealingKey(TableAccess& db, const crypto::SecretBox& current, const crypto::SecretBox& next);

}  // namespace provgate::store::transfer
