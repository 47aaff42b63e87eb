#include "portal/sqlite_user_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include "portal/user_rows.hpp"
#include "store/sqlite/migrate.hpp"

namespace provgate::portal {
namespace {

using store::sqlite::Statement;

constexpr int kBusyTimeoutMs = 5000;
constexpr int kPortalSchemaVersion = 9;  // migration that created portal_users

}  // namespace

Result<std::unique_ptr<SqliteUserStore>> SqliteUserStore::Open(const std::filesystem::path& db) {
  PG_TRY(store::sqlite::Connection conn, store::sqlite::Connection::Open(db));
  if (int rc = sqlite3_busy_timeout(conn.handle(), kBusyTimeoutMs); rc != SQLITE_OK) {
    return store::sqlite::ErrorFromSqlite(conn.handle(), rc, "setting busy timeout");
  }
  PG_TRY_STATUS(conn.Exec("PRAGMA foreign_keys = ON"));
  PG_TRY(int version, store::sqlite::CurrentSchemaVersion(conn));
  if (version < kPortalSchemaVersion) {
    return Error::FailedPrecondition(
        fmt::format("database {} has schema version {}; the portal needs {} (open the store first)", db.string(),
                    version, kPortalSchemaVersion));
  }
  return std::unique_ptr<SqliteUserStore>(new SqliteUserStore(std::move(conn)));
}

Result<UserRecord> SqliteUserStore::AddUser(const UserRecord& u, const std::vector<std::string>& recovery_hashes) {
  std::lock_guard lock(mu_);
  PG_TRY(auto tx, store::sqlite::Transaction::Begin(db_));
  UserRecord out = u;
  {
    PG_TRY(Statement s, db_.Prepare("INSERT INTO portal_users(name, role, tenant_id, password_hash, "
                                    "totp_secret_enc, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    s.BindText(1, u.name).BindText(2, u.role).BindInt(3, u.tenant_id).BindText(4, u.password_hash);
    s.BindBlob(5, u.totp_secret_enc).BindText(6, u.created_by).BindInt(7, u.created_at);
    if (auto r = s.Run(); !r) {
      if (s.last_error() == SQLITE_CONSTRAINT_UNIQUE) return Error::AlreadyExists("user " + u.name + " exists");
      if (s.last_error() == SQLITE_CONSTRAINT_FOREIGNKEY) return Error::NotFound("tenant does not exist");
      if (s.last_error() == SQLITE_CONSTRAINT_CHECK) {
        return Error::InvalidArgument("role " + u.role + " does not fit this tenant scope");
      }
      return r.error();
    }
    out.id = s.LastInsertRowId();
  }
  for (const auto& h : recovery_hashes) {
    PG_TRY(Statement s, db_.Prepare("INSERT INTO portal_recovery_codes(user_id, hash) VALUES (?1, ?2)"));
    s.BindInt(1, out.id).BindText(2, h);
    PG_TRY_STATUS(s.Run());
  }
  PG_TRY_STATUS(tx.Commit());
  return out;
}

Result<UserRecord> SqliteUserStore::FindBy(const char* sql, const std::string& name, std::int64_t id) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare(sql));
  if (name.empty()) {
    s.BindInt(1, id);
  } else {
    s.BindText(1, name);
  }
  PG_TRY(bool row, s.Step());
  if (!row) return Error::NotFound("no such user");
  return ReadUser(s);
}

Result<UserRecord> SqliteUserStore::FindUser(const std::string& name) {
  if (name.empty()) return Error::NotFound("no such user");
  return FindBy(PG_USER_SELECT "WHERE u.name = ?1", name, 0);
}

Result<UserRecord> SqliteUserStore::FindUserById(std::int64_t id) {
  return FindBy(PG_USER_SELECT "WHERE u.id = ?1", "", id);
}

Result<bool> SqliteUserStore::AcceptTotpStep(std::int64_t user_id, std::int64_t step) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE portal_users SET totp_last_step = ?2, failed_codes = 0 "
                                  "WHERE id = ?1 AND totp_last_step < ?2"));
  s.BindInt(1, user_id).BindInt(2, step);
  PG_TRY_STATUS(s.Run());
  return s.Changes() == 1;
}

Result<std::vector<UserRecord>> SqliteUserStore::ListUsers(std::optional<std::int64_t> tenant_id) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare(PG_USER_SELECT "WHERE ?1 IS NULL OR u.tenant_id = ?1 ORDER BY u.name"));
  s.BindInt(1, tenant_id);
  std::vector<UserRecord> out;
  for (;;) {
    PG_TRY(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadUser(s));
  }
  return out;
}

Status SqliteUserStore::SetLockedUntil(std::int64_t user_id, std::int64_t until) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE portal_users SET locked_until = ?2, failed_codes = 0 WHERE id = ?1"));
  s.BindInt(1, user_id).BindInt(2, until);
  PG_TRY_STATUS(s.Run());
  if (s.Changes() != 1) return Error::NotFound("no such user");
  return Ok();
}

Status SqliteUserStore::DeleteUser(std::int64_t user_id) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("DELETE FROM portal_users WHERE id = ?1"));
  s.BindInt(1, user_id);
  PG_TRY_STATUS(s.Run());
  if (s.Changes() != 1) return Error::NotFound("no such user");
  return Ok();
}

Status SqliteUserStore::ResetSecondFactor(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                                          const std::vector<std::string>& recovery_hashes) {
  std::lock_guard lock(mu_);
  PG_TRY(auto tx, store::sqlite::Transaction::Begin(db_));
  {
    PG_TRY(Statement s, db_.Prepare("UPDATE portal_users SET totp_secret_enc = ?2, totp_last_step = 0, "
                                    "failed_codes = 0 WHERE id = ?1"));
    s.BindInt(1, user_id).BindBlob(2, sealed);
    PG_TRY_STATUS(s.Run());
    if (s.Changes() != 1) return Error::NotFound("no such user");
  }
  for (const char* sql :
       {"DELETE FROM portal_recovery_codes WHERE user_id = ?1", "DELETE FROM portal_sessions WHERE user_id = ?1"}) {
    PG_TRY(Statement s, db_.Prepare(sql));
    s.BindInt(1, user_id);
    PG_TRY_STATUS(s.Run());
  }
  for (const auto& h : recovery_hashes) {
    PG_TRY(Statement s, db_.Prepare("INSERT INTO portal_recovery_codes(user_id, hash) VALUES (?1, ?2)"));
    s.BindInt(1, user_id).BindText(2, h);
    PG_TRY_STATUS(s.Run());
  }
  return tx.Commit();
}

Status SqliteUserStore::ReplaceTotpSecret(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                                          std::int64_t accepted_step) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE portal_users SET totp_secret_enc = ?2, totp_last_step = ?3, "
                                  "failed_codes = 0 WHERE id = ?1"));
  s.BindInt(1, user_id).BindBlob(2, sealed).BindInt(3, accepted_step);
  PG_TRY_STATUS(s.Run());
  if (s.Changes() != 1) return Error::NotFound("no such user");
  return Ok();
}

Result<bool> SqliteUserStore::UseRecoveryCode(std::int64_t user_id, const std::string& hash) {
  std::lock_guard lock(mu_);
  PG_TRY(auto tx, store::sqlite::Transaction::Begin(db_));
  std::int64_t deleted = 0;
  {
    PG_TRY(Statement s, db_.Prepare("DELETE FROM portal_recovery_codes WHERE user_id = ?1 AND hash = ?2"));
    s.BindInt(1, user_id).BindText(2, hash);
    PG_TRY_STATUS(s.Run());
    deleted = s.Changes();
  }
  if (deleted == 1) {
    PG_TRY(Statement s, db_.Prepare("UPDATE portal_users SET failed_codes = 0 WHERE id = ?1"));
    s.BindInt(1, user_id);
    PG_TRY_STATUS(s.Run());
  }
  PG_TRY_STATUS(tx.Commit());
  return deleted == 1;
}

Result<int> SqliteUserStore::CountCodeFailure(std::int64_t user_id, int max_failures, std::int64_t lock_until) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE portal_users SET "
                                  "locked_until = CASE WHEN failed_codes + 1 >= ?2 THEN ?3 ELSE locked_until END, "
                                  "failed_codes = CASE WHEN failed_codes + 1 >= ?2 THEN 0 ELSE failed_codes + 1 END "
                                  "WHERE id = ?1 RETURNING failed_codes"));
  s.BindInt(1, user_id).BindInt(2, max_failures).BindInt(3, lock_until);
  PG_TRY(bool row, s.Step());
  if (!row) return Error::NotFound("no such user");
  const int count = static_cast<int>(s.Int(0));
  PG_TRY(bool more, s.Step());
  (void)more;
  return count;
}

Status SqliteUserStore::AddSession(const SessionRecord& r) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("INSERT INTO portal_sessions(id_hash, user_id, created_at, last_seen_at) "
                                  "VALUES (?1, ?2, ?3, ?4)"));
  s.BindText(1, r.id_hash).BindInt(2, r.user_id).BindInt(3, r.created_at).BindInt(4, r.last_seen_at);
  return s.Run();
}

Result<SessionRecord> SqliteUserStore::FindSession(const std::string& id_hash) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT id_hash, user_id, created_at, last_seen_at FROM portal_sessions "
                                  "WHERE id_hash = ?1"));
  s.BindText(1, id_hash);
  PG_TRY(bool row, s.Step());
  if (!row) return Error::NotFound("no such session");
  return SessionRecord{s.Text(0), s.Int(1), s.Int(2), s.Int(3)};
}

Status SqliteUserStore::TouchSession(const std::string& id_hash, std::int64_t now) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE portal_sessions SET last_seen_at = ?2 WHERE id_hash = ?1"));
  s.BindText(1, id_hash).BindInt(2, now);
  return s.Run();
}

Status SqliteUserStore::DeleteSession(const std::string& id_hash) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("DELETE FROM portal_sessions WHERE id_hash = ?1"));
  s.BindText(1, id_hash);
  return s.Run();
}

Result<std::int64_t> SqliteUserStore::DeleteUserSessions(std::int64_t user_id) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("DELETE FROM portal_sessions WHERE user_id = ?1"));
  s.BindInt(1, user_id);
  PG_TRY_STATUS(s.Run());
  return s.Changes();
}

}  // namespace provgate::portal
