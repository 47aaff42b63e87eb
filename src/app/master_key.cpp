#include "app/master_key.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <system_error>

#include "app/store_backend.hpp"

namespace provgate::app {

namespace fs = std::filesystem;
using store::transfer::SealedUnder;

fs::path StagedKeyPath(const fs::path& key) { return fs::path(key.string() + ".new"); }

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

Status RecoverInterruptedRotation(const Config& c) {
  const fs::path staged_path = StagedKeyPath(c.master_key_path);
  if (!Exists(staged_path)) return Ok();
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

Result<crypto::SecretBox> OpenMasterKey(const Config& c) {
  PG_TRY_STATUS(RecoverInterruptedRotation(c));
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
  PG_TRY_STATUS(RecoverInterruptedRotation(c));
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
