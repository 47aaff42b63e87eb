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
//
// Every process that uses the key holds a KeyUseLock on "<key>.lock" shared for as long as
// it does; a rotation, and the recovery of one, hold it exclusively. So on one machine a
// rotation never runs beside a server or command that seals under the old key, and nothing
// removes or installs <key>.new while a rotation is between its steps. Other nodes' processes
// do not see the lock: stop their servers by hand (`key rotate --servers-stopped`).
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

// flock(2) on "<key>.lock" beside the key file (created 0600), never waiting: a lock that
// another process holds in a conflicting mode is kFailedPrecondition naming what to stop.
class KeyUseLock {
 public:
  // This process uses the key (loads it, seals and opens with it).
  static Result<KeyUseLock> Shared(const Config& c);
  // This process rotates the key: no other process on this machine uses it meanwhile.
  static Result<KeyUseLock> Exclusive(const Config& c);
  KeyUseLock(KeyUseLock&& other) noexcept;
  KeyUseLock& operator=(KeyUseLock&& other) noexcept;
  KeyUseLock(const KeyUseLock&) = delete;
  KeyUseLock& operator=(const KeyUseLock&) = delete;
  ~KeyUseLock();

  bool exclusive() const { return exclusive_; }
  // Converts a shared lock to exclusive (to finish an interrupted rotation), and back.
  Status ToExclusive();
  Status ToShared();

 private:
  KeyUseLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  static Result<KeyUseLock> Acquire(const Config& c, bool exclusive);
  Status Lock(bool exclusive);

  int fd_ = -1;
  std::filesystem::path path_;
  bool exclusive_ = false;
};

// The store of `c` as tables (store.path or store.url).
Result<std::unique_ptr<store::transfer::TableAccess>> OpenConfiguredTables(const Config& c);

// Finishes or undoes a rotation that stopped part way (see above), if <key>.new exists.
// Needs `lock` exclusive when it exists (an OpenMasterKey converts its shared lock for it).
Status RecoverInterruptedRotation(const Config& c, KeyUseLock& lock);

// The server's and the CLI's way to the master key: recovers an interrupted rotation, loads
// the key file (creating it on first start) and checks that it opens a secret of the store
// (one sample), so a node given the wrong key file, e.g. the old one after a rotation
// elsewhere, refuses to start instead of sealing new secrets under it. `lock` is this
// process's shared lock (KeyUseLock::Shared), kept for as long as the key is used.
Result<crypto::SecretBox> OpenMasterKey(const Config& c, KeyUseLock& lock);

// Steps 1-3 above against the configured store, under an exclusive KeyUseLock (refused while
// any process on this machine uses the key); the servers of other nodes must be stopped
// (they hold the old key in memory). Returns the secrets re-sealed per column.
Result<std::vector<store::transfer::ResealedColumn>> RotateMasterKey(const Config& c);

}  // namespace provgate::app
