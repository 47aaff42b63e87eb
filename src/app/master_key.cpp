#include "app/master_key.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "app/store_backend.hpp"

namespace provgate::app {

namespace fs = std::filesystem;
using store::transfer::SealedUnder;

fs::path StagedKeyPath(const fs::path& key) { return fs::path(key.string() + ".new"); }

Result<KeyUseLock> KeyUseLock::Shared(const Config& c) { return Acquire(c, false); }
Result<KeyUseLock> KeyUseLock::Exclusive(const Config& c) { return Acquire(c, true); }

Result<KeyUseLock> KeyUseLock::Acquire(const Config& c, bool exclusive) {
  fs::path path(c.master_key_path.string() + ".lock");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error::Internal(fmt::format("master key lock {}: open: {}", path.string(), std::strerror(errno)));
  }
  KeyUseLock lock(fd, std::move(path));
  PG_TRY_STATUS(lock.Lock(exclusive));
  return lock;
}

KeyUseLock::KeyUseLock(KeyUseLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), exclusive_(other.exclusive_) {}

KeyUseLock& KeyUseLock::operator=(KeyUseLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    exclusive_ = other.exclusive_;
  }
  return *this;
}

KeyUseLock::~KeyUseLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status KeyUseLock::ToExclusive() { return Lock(true); }
Status KeyUseLock::ToShared() { return Lock(false); }

Status KeyUseLock::Lock(bool exclusive) {
  if (::flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) {
    exclusive_ = exclusive;
    return Ok();
  }
  if (errno != EWOULDBLOCK) {
    return Error::Internal(fmt::format("master key lock {}: flock: {}", path_.string(), std::strerror(errno)));
  }
  return Error::FailedPrecondition(
      exclusive ? fmt::format("another provgate process on this machine is using the master key (it holds {}): "
                              "stop every server and command of this store first",
                              path_.string())
                : fmt::format("a master-key rotation is running on this machine (it holds {}): start again when "
                              "`provgate key rotate` has finished",
                              path_.string()));
}

Result<std::unique_ptr<store::transfer::TableAccess>> OpenConfiguredTables(const Config& c) {
  if (BackendOf(c) == Backend::kPostgres) return store::transfer::OpenPostgresTables(c.store_url);
  return store::transfer::OpenSqliteTables(c.db_path);
}

namespace {

bool Exists(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec;
}

// The key file must already exist: a rotation never creates the key it rotates away from.
Result<crypto::SecretBox> OpenExistingKey(const fs::path& path) {
  if (!Exists(path)) return Error::NotFound(fmt::format("no master key file at {}", path.string()));
  return crypto::SecretBox::OpenOrCreateKeyFile(path);
}

}  // namespace

Status RecoverInterruptedRotation(const Config& c, KeyUseLock& lock) {
  const fs::path staged_path = StagedKeyPath(c.master_key_path);
  if (!Exists(staged_path)) return Ok();
  if (!lock.exclusive()) {
    return Error::Internal("RecoverInterruptedRotation needs the master key lock held exclusively");
  }
  PG_TRY(auto current, OpenExistingKey(c.master_key_path));
  PG_TRY(auto staged, OpenExistingKey(staged_path));
  std::error_code ec;
  // A store that does not exist yet holds no secret: nothing was re-sealed either way.
  if (BackendOf(c) == Backend::kSqlite && !fs::exists(c.db_path, ec)) {
    fs::remove(staged_path, ec);
    return Ok();
  }
  PG_TRY(auto tables, OpenConfiguredTables(c));
  PG_TRY(SealedUnder under, store::transfer::FindSealingKey(*tables, current, staged));
  if (under == SealedUnder::kNext) {
    spdlog::warn("master key: finishing an interrupted rotation, installing {} as {}", staged_path.string(),
                 c.master_key_path.string());
    return crypto::SecretBox::InstallKeyFile(staged_path, c.master_key_path);
  }
  spdlog::warn("master key: a rotation stopped before its commit; removing {}, the key in {} stays",
               staged_path.string(), c.master_key_path.string());
  if (!fs::remove(staged_path, ec) || ec) {
    return Error::Internal(fmt::format("removing {}: {}", staged_path.string(), ec.message()));
  }
  return Ok();
}

Result<crypto::SecretBox> OpenMasterKey(const Config& c, KeyUseLock& lock) {
  if (Exists(StagedKeyPath(c.master_key_path))) {
    PG_TRY_STATUS(lock.ToExclusive());
    PG_TRY_STATUS(RecoverInterruptedRotation(c, lock));
    PG_TRY_STATUS(lock.ToShared());
  }
  PG_TRY(auto box, crypto::SecretBox::OpenOrCreateKeyFile(c.master_key_path));
  std::error_code ec;
  if (BackendOf(c) == Backend::kSqlite && !fs::exists(c.db_path, ec)) return box;  // a first start
  PG_TRY(auto tables, OpenConfiguredTables(c));
  PG_TRY(auto sample, store::transfer::FindSealedSample(*tables));
  if (sample && !box.Open(sample->sealed)) {
    return Error::FailedPrecondition(fmt::format(
        "the master key file {} does not open the secrets of this store ({}.{}): it is not the key they were "
        "sealed with. After `provgate key rotate` on another node, copy that node's key file here "
        "(docs/security.md)",
        c.master_key_path.string(), sample->table, sample->column));
  }
  return box;
}

Result<std::vector<store::transfer::ResealedColumn>> RotateMasterKey(const Config& c) {
  PG_TRY(auto lock, KeyUseLock::Exclusive(c));
  PG_TRY_STATUS(RecoverInterruptedRotation(c, lock));
  PG_TRY(auto current, OpenExistingKey(c.master_key_path));
  const fs::path staged_path = StagedKeyPath(c.master_key_path);
  PG_TRY(auto next, crypto::SecretBox::OpenOrCreateKeyFile(staged_path));
  PG_TRY(auto tables, OpenConfiguredTables(c));
  auto resealed = store::transfer::ResealSecrets(*tables, current, next);
  if (!resealed) {
    std::error_code ec;
    fs::remove(staged_path, ec);
    return resealed.error();
  }
  PG_TRY_STATUS(crypto::SecretBox::InstallKeyFile(staged_path, c.master_key_path));
  return resealed;
}

}  // namespace provgate::app
