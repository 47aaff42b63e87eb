// What the web portal stores: its users (password as an Argon2id string, TOTP secret
// sealed), their unused recovery codes (SHA-256 only) and their sessions (SHA-256 of the
// session id only). Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace provgate::portal {

struct UserRecord {
  std::int64_t id = 0;
  std::string name;
  std::string role;                       // admin | tenant-admin | support | auditor
  std::optional<std::int64_t> tenant_id;  // nullopt = platform scope
  std::string tenant_name;                // "" for platform users (read only)
  std::string password_hash;              // Argon2id string
  std::vector<unsigned char> totp_secret_enc;
  std::int64_t totp_last_step = 0;
  int failed_codes = 0;           // wrong second factors since the last good one
  std::int64_t locked_until = 0;  // unix seconds; sign-in refused before
  std::string created_by;
  std::int64_t created_at = 0;
};

struct SessionRecord {
  std::string id_hash;  // SHA-256 hex of the session id
  std::int64_t user_id = 0;
  std::int64_t created_at = 0;
  std::int64_t last_seen_at = 0;
};

class UserStore {
 public:
  virtual ~UserStore() = default;

  // kAlreadyExists when the name is taken; kNotFound when tenant_id names no tenant.
  virtual Result<UserRecord> AddUser(const UserRecord& user, const std::vector<std::string>& recovery_hashes) = 0;
  virtual Result<UserRecord> FindUser(const std::string& name) = 0;  // kNotFound
  virtual Result<UserRecord> FindUserById(std::int64_t id) = 0;      // kNotFound

  // Accepts TOTP step `step` for the user only if it is later than every step accepted
  // before (false: the code was used already); clears the failure count.
  virtual Result<bool> AcceptTotpStep(std::int64_t user_id, std::int64_t step) = 0;
  // Deletes the recovery code; false when the user has no such unused code. Clears the
  // failure count when it was there.
  virtual Result<bool> UseRecoveryCode(std::int64_t user_id, const std::string& hash) = 0;
  // Counts a wrong second factor; at `max_failures` the user is locked until `lock_until`
  // and the count starts again. Returns the count after this failure (0 when it locked).
  virtual Result<int> CountCodeFailure(std::int64_t user_id, int max_failures, std::int64_t lock_until) = 0;
  // Replaces the user's sealed TOTP secret; `accepted_step` (the step of the code that
  // confirmed it) becomes the last accepted step, and the failure count is cleared.
  // kNotFound for an unknown user.
  virtual Status ReplaceTotpSecret(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                                   std::int64_t accepted_step) = 0;

  // Every user (tenant_id nullopt) or only that tenant's, by name.
  virtual Result<std::vector<UserRecord>> ListUsers(std::optional<std::int64_t> tenant_id) = 0;
  // Sets the user's locked_until (unix seconds; 0 lifts a lock). kNotFound for an unknown user.
  virtual Status SetLockedUntil(std::int64_t user_id, std::int64_t until) = 0;
  // Deletes the user with its recovery codes and sessions. kNotFound for an unknown user.
  virtual Status DeleteUser(std::int64_t user_id) = 0;
  // In one transaction: a new sealed TOTP secret (no step accepted yet), these recovery codes
  // in place of every old one, no session, no failure count. kNotFound for an unknown user.
  virtual Status ResetSecondFactor(std::int64_t user_id, const std::vector<unsigned char>& sealed,
                                   const std::vector<std::string>& recovery_hashes) = 0;

  virtual Status AddSession(const SessionRecord& session) = 0;
  virtual Result<SessionRecord> FindSession(const std::string& id_hash) = 0;  // kNotFound
  virtual Status TouchSession(const std::string& id_hash, std::int64_t now) = 0;
  virtual Status DeleteSession(const std::string& id_hash) = 0;
  // Every session of the user ("sign out everywhere"); returns how many there were.
  virtual Result<std::int64_t> DeleteUserSessions(std::int64_t user_id) = 0;
};

}  // namespace provgate::portal
