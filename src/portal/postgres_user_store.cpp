#include "portal/postgres_user_store.hpp"

#include <fmt/format.h>

#include "portal/user_rows.hpp"
#include "store/postgres/migrate.hpp"

namespace provgate::portal {
namespace {

using store::postgres::Params;
using store::postgres::Rows;
using store::postgres::Violation;

constexpr int kPortalSchemaVersion = 9;  // migration that created portal_users

}  // namespace

Result<std::unique_ptr<PostgresUserStore>> PostgresUserStore::Open(const std::string& url, size_t pool_size) {
  PG_TRY(auto pool, store::postgres::Pool::Open(url, pool_size));
  {
    PG_TRY(auto db, pool->Acquire());
    PG_TRY(int version, store::postgres::CurrentSchemaVersion(*db));
    if (version < kPortalSchemaVersion) {
      return Error::FailedPrecondition(
          fmt::format("PostgreSQL {} has schema version {}; the portal needs {} (open the store first)",
                      store::postgres::RedactUrl(url), version, kPortalSchemaVersion));
    }
  }
  return std::unique_ptr<PostgresUserStore>(new PostgresUserStore(std::move(pool)));
}

Result<UserRecord> PostgresUserStore::AddUser(const UserRecord& u, const std::vector<std::string>& recovery_hashes) {
  Params p;
  p.BindText(1, u.name).BindText(2, u.role).BindInt(3, u.tenant_id).BindText(4, u.password_hash);
  p.BindBlob(5, u.totp_secret_enc).BindText(6, u.created_by).BindInt(7, u.created_at);
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(auto tx, store::postgres::Transaction::Begin(*db));
  auto added = db->Exec(
      "INSERT INTO portal_users(name, role, tenant_id, password_hash, totp_secret_enc, created_by, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
      p);
  if (!added) {
    if (db->violation() == Violation::kUnique) return Error::AlreadyExists("user " + u.name + " exists");
    if (db->violation() == Violation::kForeignKey) return Error::NotFound("tenant does not exist");
    if (db->violation() == Violation::kCheck) {
      return Error::InvalidArgument("role " + u.role + " does not fit this tenant scope");
    }
    return added.error();
  }
  UserRecord out = u;
  out.id = (*added)[0].Int(0);
  for (const auto& h : recovery_hashes) {
    PG_TRY_STATUS(db->Run("INSERT INTO portal_recovery_codes(user_id, hash) VALUES ($1, $2)",
                          Params().BindInt(1, out.id).BindText(2, h)));
  }
  PG_TRY_STATUS(tx.Commit());
  return out;
}

Result<UserRecord> PostgresUserStore::FindBy(const char* sql, const Params& key) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec(sql, key));
  if (rows.empty()) return Error::NotFound("no such user");
  return ReadUser(rows[0]);
}

Result<UserRecord> PostgresUserStore::FindUser(const std::string& name) {
  if (name.empty()) return Error::NotFound("no such user");
  return FindBy(PG_USER_SELECT "WHERE u.name = $1", Params().BindText(1, name));
}

Result<UserRecord> PostgresUserStore::FindUserById(std::int64_t id) {
  return FindBy(PG_USER_SELECT "WHERE u.id = $1", Params().BindInt(1, id));
}

Result<bool> PostgresUserStore::AcceptTotpStep(std::int64_t user_id, std::int64_t step) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE portal_users SET totp_last_step = $2, failed_codes = 0 "
                             "WHERE id = $1 AND totp_last_step < $2",
                             Params().BindInt(1, user_id).BindInt(2, step)));
  return rows.Changed() == 1;
}

Result<bool> PostgresUserStore::UseRecoveryCode(std::int64_t user_id, const std::string& hash) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(auto tx, store::postgres::Transaction::Begin(*db));
  PG_TRY(Rows deleted, db->Exec("DELETE FROM portal_recovery_codes WHERE user_id = $1 AND hash = $2",
                                Params().BindInt(1, user_id).BindText(2, hash)));
  const bool used = deleted.Changed() == 1;
  if (used) {
    PG_TRY_STATUS(db->Run("UPDATE portal_users SET failed_codes = 0 WHERE id = $1", Params().BindInt(1, user_id)));
  }
  PG_TRY_STATUS(tx.Commit());
  return used;
}

Status PostgresUserStore::ReplaceTotpSecret(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                                            std::int64_t accepted_step) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE portal_users SET totp_secret_enc = $2, totp_last_step = $3, failed_codes = 0 "
                             "WHERE id = $1",
                             Params().BindInt(1, user_id).BindBlob(2, sealed).BindInt(3, accepted_step)));
  if (rows.Changed() != 1) return Error::NotFound("no such user");
  return Ok();
}

Result<std::vector<UserRecord>> PostgresUserStore::ListUsers(std::optional<std::int64_t> tenant_id) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec(PG_USER_SELECT "WHERE $1::bigint IS NULL OR u.tenant_id = $1 ORDER BY u.name",
                             Params().BindInt(1, tenant_id)));
  std::vector<UserRecord> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) out.push_back(ReadUser(rows[i]));
  return out;
}

Status PostgresUserStore::SetLockedUntil(std::int64_t user_id, std::int64_t until) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE portal_users SET locked_until = $2, failed_codes = 0 WHERE id = $1",
                             Params().BindInt(1, user_id).BindInt(2, until)));
  if (rows.Changed() != 1) return Error::NotFound("no such user");
  return Ok();
}

Status PostgresUserStore::DeleteUser(std::int64_t user_id) {
  PG_TRY(auto db, pool_->Acquire());
  // Recovery codes and sessions go with the user (ON DELETE CASCADE).
  PG_TRY(Rows rows, db->Exec("DELETE FROM portal_users WHERE id = $1", Params().BindInt(1, user_id)));
  if (rows.Changed() != 1) return Error::NotFound("no such user");
  return Ok();
}

Status PostgresUserStore::ResetSecondFactor(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                                            const std::vector<std::string>& recovery_hashes) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(auto tx, store::postgres::Transaction::Begin(*db));
  PG_TRY(Rows updated, db->Exec("UPDATE portal_users SET totp_secret_enc = $2, totp_last_step = 0, failed_codes = 0 "
                                "WHERE id = $1",
                                Params().BindInt(1, user_id).BindBlob(2, sealed)));
  if (updated.Changed() != 1) return Error::NotFound("no such user");
  for (const char* sql :
       {"DELETE FROM portal_recovery_codes WHERE user_id = $1", "DELETE FROM portal_sessions WHERE user_id = $1"}) {
    PG_TRY_STATUS(db->Run(sql, Params().BindInt(1, user_id)));
  }
  for (const auto& h : recovery_hashes) {
    PG_TRY_STATUS(db->Run("INSERT INTO portal_recovery_codes(user_id, hash) VALUES ($1, $2)",
                          Params().BindInt(1, user_id).BindText(2, h)));
  }
  return tx.Commit();
}

Result<int> PostgresUserStore::CountCodeFailure(std::int64_t user_id, int max_failures, std::int64_t lock_until) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE portal_users SET "
                             "locked_until = CASE WHEN failed_codes + 1 >= $2 THEN $3 ELSE locked_until END, "
                             "failed_codes = CASE WHEN failed_codes + 1 >= $2 THEN 0 ELSE failed_codes + 1 END "
                             "WHERE id = $1 RETURNING failed_codes",
                             Params().BindInt(1, user_id).BindInt(2, max_failures).BindInt(3, lock_until)));
  if (rows.empty()) return Error::NotFound("no such user");
  return static_cast<int>(rows[0].Int(0));
}

Status PostgresUserStore::AddSession(const SessionRecord& r) {
  PG_TRY(auto db, pool_->Acquire());
  return db->Run(
      "INSERT INTO portal_sessions(id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4)",
      Params().BindText(1, r.id_hash).BindInt(2, r.user_id).BindInt(3, r.created_at).BindInt(4, r.last_seen_at));
}

Result<SessionRecord> PostgresUserStore::FindSession(const std::string& id_hash) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT id_hash, user_id, created_at, last_seen_at FROM portal_sessions "
                             "WHERE id_hash = $1",
                             Params().BindText(1, id_hash)));
  if (rows.empty()) return Error::NotFound("no such session");
  const auto row = rows[0];
  return SessionRecord{row.Text(0), row.Int(1), row.Int(2), row.Int(3)};
}

Status PostgresUserStore::TouchSession(const std::string& id_hash, std::int64_t now) {
  PG_TRY(auto db, pool_->Acquire());
  return db->Run("UPDATE portal_sessions SET last_seen_at = $2 WHERE id_hash = $1",
                 Params().BindText(1, id_hash).BindInt(2, now));
}

Status PostgresUserStore::DeleteSession(const std::string& id_hash) {
  PG_TRY(auto db, pool_->Acquire());
  return db->Run("DELETE FROM portal_sessions WHERE id_hash = $1", Params().BindText(1, id_hash));
}

Result<std::int64_t> PostgresUserStore::DeleteUserSessions(std::int64_t user_id) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("DELETE FROM portal_sessions WHERE user_id = $1", Params().BindInt(1, user_id)));
  return rows.Changed();
}

}  // namespace provgate::portal
