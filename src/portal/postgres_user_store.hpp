// The PostgreSQL backend of portal::UserStore: a small pool of its own on a database that a
// store::PostgresStore opened (and migrated) before it. Constant statements with bound
// parameters; every conditional change is one UPDATE, so nodes sharing the database never
// accept one TOTP step or recovery code twice.
#pragma once

#include <memory>
#include <string>

#include "portal/user_store.hpp"
#include "store/postgres/connection.hpp"

namespace provgate::portal {

class PostgresUserStore final : public UserStore {
 public:
  // kFailedPrecondition when the database lacks the portal schema (open the store first).
  static Result<std::unique_ptr<PostgresUserStore>> Open(const std::string& url, size_t pool_size);

  Result<UserRecord> AddUser(const UserRecord& user, const std::vector<std::string>& recovery_hashes) override;
  Result<UserRecord> FindUser(const std::string& name) override;
  Result<UserRecord> FindUserById(std::int64_t id) override;
  Result<bool> AcceptTotpStep(std::int64_t user_id, std::int64_t step) override;
  Result<bool> UseRecoveryCode(std::int64_t user_id, const std::string& hash) override;
  Result<int> CountCodeFailure(std::int64_t user_id, int max_failures, std::int64_t lock_until) override;
  Status ReplaceTotpSecret(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                           std::int64_t accepted_step) override;
  Result<std::vector<UserRecord>> ListUsers(std::optional<std::int64_t> tenant_id) override;
  Status SetLockedUntil(std::int64_t user_id, std::int64_t until) override;
  Status DeleteUser(std::int64_t user_id) override;
  Status ResetSecondFactor(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                           const std::vector<std::string>& recovery_hashes) override;
  Status AddSession(const SessionRecord& session) override;
  Result<SessionRecord> FindSession(const std::string& id_hash) override;
  Status TouchSession(const std::string& id_hash, std::int64_t now) override;
  Status DeleteSession(const std::string& id_hash) override;
  Result<std::int64_t> DeleteUserSessions(std::int64_t user_id) override;

 private:
  explicit PostgresUserStore(std::unique_ptr<store::postgres::Pool> pool) : pool_(std::move(pool)) {}
  Result<UserRecord> FindBy(const char* sql, const store::postgres::Params& key);
  std::unique_ptr<store::postgres::Pool> pool_;
};

}  // namespace provgate::portal
