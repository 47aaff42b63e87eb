// The master key file and its rotation (docs/security.md "Master-key rotation").
//
// Rotation runs in three steps, each safe to interrupt:
//   1. stage:   a new random key is written to <key>.new (0600, fsync'd);
//   2. reseal:  every sealed secret of the store is re-sealed under the new key in one
//               transaction (store/transfer/reseal.hpp), committed durably;
//   3. install: <key>.new is renamed over <key> (the directory fsync'd); the old key is gone.
// A <key>.new found at start-up means a rotation stopped between 1 and 3. One sealed value
// tells which key the store uses (step 2 moves all of them at once): if it opens under the
// staged key the rotation committed and step 3 is finished now; if it opens under the old key
// it did not, and <key>.new is removed. Either way every secret stays readable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "app/config.hpp"
#include "base/result.hpp"
#include "crypto/secret_box.hpp"
#include "store/transfer/reseal.hpp"
#include "store/transfer/table_access.hpp"

namespace provgate::app {

// Where a rotation stages the new key: "<key>.new" beside the key file.
std::filesystem::path StagedKeyPath(const std::filesystem::path& key);

// The store of `c` as tables (store.path or store.url).
Result<std::unique_ptr<store::transfer::TableAccess>> OpenConfiguredTables(const Config& c);

// Finishes or undoes a rotation that stopped part way (see above), if <key>.new exists.
Status RecoverInterruptedRotation(const Config& c);

// The server's and the CLI's way to the master key: recovers an interrupted rotation, loads
// the key file (creating it on first start) and checks that it opens a secret of the store
// (one sample), so a node given the wrong key file, e.g. the old one after a rotation
// elsewhere, refuses to start instead of sealing new secrets under it.
Result<crypto::SecretBox> OpenMasterKey(const Config& c);

// Steps 1-3 above against the configured store; the servers of the store must be stopped
// (they hold the old key in memory). Returns the secrets re-sealed per column.
Result<std::vector<store::transfer::ResealedColumn>> RotateMasterKey(const Config& c);

}  // namespace provgate::app
