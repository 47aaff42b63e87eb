// The SQLite backend of portal::UserStore: its own connection to a database that a
// SqliteStore opened (and migrated) before it. Constant statements with bound parameters.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "portal/user_store.hpp"
#include "store/sqlite/connection.hpp"

namespace provgate::portal {

class SqliteUserStore final : public UserStore {
 public:
  // kFailedPrecondition when the database lacks the portal schema (open a SqliteStore first).
  static Result<std::unique_ptr<SqliteUserStore>> Open(const std::filesystem::path& db);

  Result<UserRecord> AddUser(const UserRecord& user, const std::vector<std::string>& recovery_hashes) override;
  Result<UserRecord> FindUser(const std::string& name) override;
  Result<UserRecord> FindUserById(std::int64_t id) override;
  Result<bool> AcceptTotpStep(std::int64_t user_id, std::int64_t step) override;
  Result<std::vector<UserRecord>> ListUsers(std::optional<std::int64_t> tenant_id) override;
  Status SetLockedUntil(std::int64_t user_id, std::int64_t until) override;
  Status DeleteUser(std::int64_t user_id) override;
  Status ResetSecondFactor(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                           const std::vector<std::string>& recovery_hashes) override;
  Status ReplaceTotpSecret(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                           std::int64_t accepted_step) override;
  Result<bool> UseRecoveryCode(std::int64_t user_id, const std::string& hash) override;
  Result<int> CountCodeFailure(std::int64_t user_id, int max_failures, std::int64_t lock_until) override;
  Status AddSession(const SessionRecord& session) override;
  Result<SessionRecord> FindSession(const std::string& id_hash) override;
  Status TouchSession(const std::string& id_hash, std::int64_t now) override;
  Status DeleteSession(const std::string& id_hash) override;
  Result<std::int64_t> DeleteUserSessions(std::int64_t user_id) override;

 private:
  explicit SqliteUserStore(store::sqlite::Connection db) : db_(std::move(db)) {}
  Result<UserRecord> FindBy(const char* sql, const std::string& name, std::int64_t id);
  std::mutex mu_;
  store::sqlite::Connection db_;  // guarded by mu_
};

}  // namespace provgate::portal
