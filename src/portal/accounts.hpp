// Portal accounts: users (created by `provgate user add`), sign-in with password and a
// second factor (TOTP or a one-time recovery code), and sessions.
//
// Security contract: a password exists only as its Argon2id string, a TOTP secret only
// sealed with the master key, a recovery code and a session id only as their SHA-256; none
// is ever logged or audited. An unknown user name costs what a wrong password costs. A TOTP
// code is accepted once (its step must be later than the last accepted one).
// max_code_failures wrong second factors after a right password lock the user for
// lockout_seconds. A session expires idle_seconds after its last use and absolute_seconds
// after sign-in, whichever comes first; every sign-in creates a new session id. The CSRF
// token of a session is derived from its id, so it changes with the session and is known
// only to whoever holds the cookie. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "crypto/secret_box.hpp"
#include "portal/user_store.hpp"
#include "service/admin.hpp"
#include "service/api_keys.hpp"
#include "store/store.hpp"

namespace provgate::portal {

struct AccountOptions {
  std::int64_t idle_seconds = 30 * 60;
  std::int64_t absolute_seconds = 12 * 3600;
  int max_code_failures = 5;
  std::int64_t lockout_seconds = 15 * 60;
  // How long a TOTP enrolment waits for its confirmation.
  std::int64_t enrolment_seconds = 15 * 60;
};

inline constexpr size_t kRecoveryCodes = 10;

// Who a portal session acts as.
struct PortalUser {
  std::int64_t id = 0;
  std::string name;
  service::Role role = service::Role::kAuditor;
  std::optional<service::TenantScope> tenant;  // nullopt = platform
  // "portal:<name>", the actor of audit records.
  std::string actor() const { return "portal:" + name; }
};

struct NewUser {
  PortalUser user;
  std::string totp_secret;  // base32, shown once for the authenticator app
  std::string otpauth_uri;
  std::vector<std::string> recovery_codes;  // shown once
};

enum class SignInFailure { kUnknownUser, kWrongPassword, kWrongCode, kCodeReused, kLocked };
std::string_view SignInFailureName(SignInFailure f);

struct SignInOutcome {
  std::optional<PortalUser> user;  // set on success
  std::string session_id;          // the cookie value, on success
  SignInFailure failure = SignInFailure::kUnknownUser;
  bool locked_now = false;  // this failure locked the user
  std::string name;         // the user name tried
};

// A TOTP enrolment shown to its user once (Accounts::StartEnrolment).
struct Enrolment {
  std::string secret;       // base32, for typing into the authenticator
  std::string otpauth_uri;  // for the QR code
  std::string pending;      // the sealed secret for the confirmation form (base32)
};

struct Session {
  PortalUser user;
  std::string id_hash;
  std::string csrf_token;
};

class Accounts {
 public:
  // The references must outlive this object.
  Accounts(UserStore& users, store::Store& store, const crypto::SecretBox& box, audit::AuditLog& audit,
           const Clock& clock, AccountOptions options = {});

  // Creates a user with a fresh TOTP secret and recovery codes (returned once). Role and
  // tenant follow the API keys' rule (admin: platform only; tenant-admin: a tenant). Audited
  // (never a secret) as `actor`.
  Result<NewUser> AddUser(const std::string& name, const std::string& role, const std::string& tenant,
                          std::string_view password, const std::string& actor);

  // `code` is a 6-digit TOTP code or a recovery code. Audits nothing (the caller knows the
  // peer and audits both outcomes).
  Result<SignInOutcome> SignIn(const std::string& name, std::string_view password, std::string_view code);

  // Whether `secret`, re-entered by the signed-in user before a secret is shown, is the
  // user's password or a current TOTP code (accepted once, like at sign-in). A wrong one
  // counts as a wrong second factor (max_code_failures lock the user); a locked user is
  // always refused. Audits nothing (the caller does).
  Result<bool> Reauthenticate(const PortalUser& user, std::string_view secret);

  // A new TOTP secret for the signed-in user's authenticator, not yet stored: `pending`
  // carries it sealed with the master key together with the user's id and the time, for
  // the confirmation form (ConfirmEnrolment), and expires after enrolment_seconds.
  Result<Enrolment> StartEnrolment(const PortalUser& user);
  // Makes the secret in `pending` the user's when `password` is the user's password and
  // `code` a current code of the new secret (the code is spent). false when refused: a wrong
  // password or code (counted as a wrong second factor), a pending enrolment of another user,
  // expired or malformed, or a locked user. Audits nothing (the caller does).
  Result<bool> ConfirmEnrolment(const PortalUser& user, std::string_view pending, std::string_view password,
                                std::string_view code);

  // A new TOTP secret and ten new recovery codes for `user` (returned once) in place of the
  // old ones; every session of the user ends. Audits nothing (the caller does).
  Result<NewUser> ResetSecondFactor(const UserRecord& user);

  // The live session of `session_id` (and records its use); kNotFound for an unknown,
  // malformed or expired id (an expired session is deleted).
  Result<Session> Resume(std::string_view session_id);
  Status SignOut(const Session& session);
  // Ends every session of the user; returns how many.
  Result<std::int64_t> SignOutEverywhere(const Session& session);

  // The CSRF token of the session whose id is `session_id`.
  static std::string CsrfToken(std::string_view session_id);

 private:
  // A fresh TOTP secret (sealed, and as shown) and recovery codes (hashed, and as shown).
  struct SecondFactor {
    std::vector<unsigned char> sealed;
    std::vector<std::string> recovery_hashes;
    NewUser shown;  // user left empty
  };
  Result<SecondFactor> NewSecondFactor(std::string_view name) const;
  Result<PortalUser> ToPortalUser(const UserRecord& r) const;
  Result<std::string> NewSession(std::int64_t user_id, std::int64_t now);

  UserStore& users_;
  store::Store& store_;
  crypto::SecretBox box_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  AccountOptions options_;
};

}  // namespace provgate::portal
