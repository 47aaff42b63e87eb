#include "portal/accounts.hpp"

#include <fmt/format.h>

#include <charconv>

#include "crypto/random.hpp"
#include "portal/password_hash.hpp"
#include "portal/totp.hpp"

namespace provgate::portal {
namespace {

constexpr std::string_view kIssuer = "provgate";
constexpr size_t kSessionIdBytes = 32;
constexpr std::string_view kRecoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";

// A recovery code as compared: without separators and spaces, lower case.
std::string NormalizeRecoveryCode(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

bool IsSessionId(std::string_view id) {
  if (id.size() != kSessionIdBytes * 2) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' && c != '@') return false;
  }
  return true;
}

}  // namespace

std::string_view SignInFailureName(SignInFailure f) {
  switch (f) {
    case SignInFailure::kUnknownUser: return "unknown user";
    case SignInFailure::kWrongPassword: return "wrong password";
    case SignInFailure::kWrongCode: return "wrong second factor";
    case SignInFailure::kCodeReused: return "second factor code reused";
    case SignInFailure::kLocked: return "user locked";
  }
  return "unknown";
}

Accounts::Accounts(UserStore& users, store::Store& store, const crypto::SecretBox& box, audit::AuditLog& audit,
                   const Clock& clock, AccountOptions options)
    : users_(users), store_(store), box_(box), audit_(audit), clock_(clock), options_(options) {}

std::string Accounts::CsrfToken(std::string_view session_id) {
  return crypto::Sha256Hex("provgate portal csrf\n" + std::string(session_id));
}

Result<PortalUser> Accounts::ToPortalUser(const UserRecord& r) const {
  PortalUser u;
  u.id = r.id;
  u.name = r.name;
  PG_TRY(u.role, service::ParseRole(r.role));
  if (r.tenant_id) u.tenant = service::TenantScope{*r.tenant_id, r.tenant_name};
  return u;
}

Result<NewUser> Accounts::AddUser(const std::string& name, const std::string& role, const std::string& tenant,
                                  std::string_view password, const std::string& actor) {
  if (!IsUserName(name)) {
    return Error::InvalidArgument("a user name has 1-64 letters, digits and . _ - @");
  }
  PG_TRY(const service::Role parsed_role, service::ParseRole(role));
  if (parsed_role == service::Role::kAdmin && !tenant.empty()) {
    return Error::InvalidArgument("an admin user has platform scope; leave out --tenant");
  }
  if (parsed_role == service::Role::kTenantAdmin && tenant.empty()) {
    return Error::InvalidArgument("a tenant-admin user needs --tenant");
  }
  UserRecord r;
  r.name = name;
  r.role = std::string(service::RoleName(parsed_role));
  if (!tenant.empty()) {
    PG_TRY(auto t, store_.FindTenant(tenant));
    r.tenant_id = t.id;
    r.tenant_name = t.name;
  }
  PG_TRY(r.password_hash, HashPassword(password));
  PG_TRY(auto factor, NewSecondFactor(name));
  r.totp_secret_enc = std::move(factor.sealed);
  r.created_by = actor;
  r.created_at = ToUnix(clock_.Now());
  PG_TRY(auto stored, users_.AddUser(r, factor.recovery_hashes));
  stored.tenant_name = r.tenant_name;
  NewUser out;
  PG_TRY(out.user, ToPortalUser(stored));
  out.totp_secret = std::move(factor.shown.totp_secret);
  out.otpauth_uri = std::move(factor.shown.otpauth_uri);
  out.recovery_codes = std::move(factor.shown.recovery_codes);
  nlohmann::json detail = {{"user", name}, {"role", r.role}};
  if (!r.tenant_name.empty()) detail["tenant"] = r.tenant_name;
  audit::AuditRecord rec = audit::InfoRecord(clock_.Now(), "admin", actor, "portal user added", "", std::move(detail));
  rec.tenant_id = r.tenant_id.value_or(0);
  PG_TRY_STATUS(audit_.Write(rec, audit::Durability::kDurable));
  return out;
}

Result<Accounts::SecondFactor> Accounts::NewSecondFactor(std::string_view name) const {
  const auto secret = crypto::RandomBytes(kTotpSecretBytes);
  SecondFactor f;
  f.sealed = box_.Seal(std::string(secret.begin(), secret.end()));
  for (size_t i = 0; i < kRecoveryCodes; ++i) {
    PG_TRY(std::string code, crypto::RandomPassword(10, kRecoveryAlphabet));
    f.recovery_hashes.push_back(crypto::Sha256Hex(code));
    f.shown.recovery_codes.push_back(code.substr(0, 5) + "-" + code.substr(5));
  }
  f.shown.totp_secret = Base32Encode(secret);
  f.shown.otpauth_uri = OtpauthUri(kIssuer, name, secret);
  return f;
}

Result<NewUser> Accounts::ResetSecondFactor(const UserRecord& user) {
  PG_TRY(auto factor, NewSecondFactor(user.name));
  PG_TRY_STATUS(users_.ResetSecondFactor(user.id, factor.sealed, factor.recovery_hashes));
  NewUser out = std::move(factor.shown);
  PG_TRY(out.user, ToPortalUser(user));
  return out;
}

Result<std::string> Accounts::NewSession(std::int64_t user_id, std::int64_t now) {
  const auto bytes = crypto::RandomBytes(kSessionIdBytes);
  std::string id = crypto::HexEncode(bytes.data(), bytes.size());
  PG_TRY_STATUS(users_.AddSession(SessionRecord{crypto::Sha256Hex(id), user_id, now, now}));
  return id;
}

Result<SignInOutcome> Accounts::SignIn(const std::string& name, std::string_view password, std::string_view code) {
  const std::int64_t now = ToUnix(clock_.Now());
  SignInOutcome out;
  out.name = name;
  auto found = IsUserName(name) ? users_.FindUser(name) : Result<UserRecord>(Error::NotFound("no such user"));
  if (!found) {
    if (found.error().code != ErrorCode::kNotFound) return found.error();
    (void)VerifyPassword(DummyPasswordHash(), password);
    out.failure = SignInFailure::kUnknownUser;
    return out;
  }
  const UserRecord& u = *found;
  const bool password_ok = VerifyPassword(u.password_hash, password);
  if (u.locked_until > now) {
    out.failure = SignInFailure::kLocked;
    return out;
  }
  if (!password_ok) {
    out.failure = SignInFailure::kWrongPassword;
    return out;
  }
  PG_TRY(std::string secret_text, box_.Open(u.totp_secret_enc));
  const std::vector<unsigned char> secret(secret_text.begin(), secret_text.end());
  bool second_factor = false;
  if (const auto step = MatchTotp(secret, code, now)) {
    PG_TRY(second_factor, users_.AcceptTotpStep(u.id, *step));
    out.failure = SignInFailure::kCodeReused;
  } else {
    PG_TRY(second_factor, users_.UseRecoveryCode(u.id, crypto::Sha256Hex(NormalizeRecoveryCode(code))));
    out.failure = SignInFailure::kWrongCode;
  }
  if (!second_factor) {
    PG_TRY(const int count, users_.CountCodeFailure(u.id, options_.max_code_failures, now + options_.lockout_seconds));
    out.locked_now = count == 0;
    return out;
  }
  PG_TRY(out.user, ToPortalUser(u));
  PG_TRY(out.session_id, NewSession(u.id, now));
  return out;
}

Result<bool> Accounts::Reauthenticate(const PortalUser& user, std::string_view secret) {
  const std::int64_t now = ToUnix(clock_.Now());
  PG_TRY(const UserRecord u, users_.FindUserById(user.id));
  if (u.locked_until > now) return false;
  bool ok = false;
  PG_TRY(std::string secret_text, box_.Open(u.totp_secret_enc));
  const std::vector<unsigned char> totp_secret(secret_text.begin(), secret_text.end());
  if (const auto step = MatchTotp(totp_secret, secret, now)) {
    PG_TRY(ok, users_.AcceptTotpStep(u.id, *step));
  } else {
    ok = VerifyPassword(u.password_hash, secret);
  }
  if (!ok) {
    PG_TRY_STATUS(users_.CountCodeFailure(u.id, options_.max_code_failures, now + options_.lockout_seconds));
  }
  return ok;
}

Result<Enrolment> Accounts::StartEnrolment(const PortalUser& user) {
  const auto secret = crypto::RandomBytes(kTotpSecretBytes);
  const std::string payload =
      fmt::format("{}:{}:", user.id, ToUnix(clock_.Now())) + std::string(secret.begin(), secret.end());
  Enrolment out;
  out.secret = Base32Encode(secret);
  out.otpauth_uri = OtpauthUri(kIssuer, user.name, secret);
  out.pending = Base32Encode(box_.Seal(payload));
  return out;
}

namespace {

// The secret of a pending enrolment sealed for `user_id` at most `max_age` seconds before `now`.
std::optional<std::vector<unsigned char>> PendingSecret(const crypto::SecretBox& box, std::string_view pending,
                                                        std::int64_t user_id, std::int64_t now, std::int64_t max_age) {
  auto sealed = Base32Decode(pending);
  if (!sealed) return std::nullopt;
  auto payload = box.Open(*sealed);
  if (!payload) return std::nullopt;
  const std::string prefix = fmt::format("{}:", user_id);
  if (!payload->starts_with(prefix)) return std::nullopt;
  const auto colon = payload->find(':', prefix.size());
  if (colon == std::string::npos) return std::nullopt;
  std::int64_t issued = 0;
  const char* first = payload->data() + prefix.size();
  const auto [end, ec] = std::from_chars(first, payload->data() + colon, issued);
  if (ec != std::errc() || end != payload->data() + colon || now < issued || now - issued > max_age) {
    return std::nullopt;
  }
  const std::string_view secret = std::string_view(*payload).substr(colon + 1);
  if (secret.size() != kTotpSecretBytes) return std::nullopt;
  return std::vector<unsigned char>(secret.begin(), secret.end());
}

}  // namespace

Result<bool> Accounts::ConfirmEnrolment(const PortalUser& user, std::string_view pending, std::string_view password,
                                        std::string_view code) {
  const std::int64_t now = ToUnix(clock_.Now());
  PG_TRY(const UserRecord u, users_.FindUserById(user.id));
  if (u.locked_until > now) return false;
  const auto secret = PendingSecret(box_, pending, u.id, now, options_.enrolment_seconds);
  if (!secret) return false;
  const auto step = MatchTotp(*secret, code, now);
  if (!step || !VerifyPassword(u.password_hash, password)) {
    PG_TRY_STATUS(users_.CountCodeFailure(u.id, options_.max_code_failures, now + options_.lockout_seconds));
    return false;
  }
  PG_TRY_STATUS(users_.ReplaceTotpSecret(u.id, box_.Seal(std::string(secret->begin(), secret->end())), *step));
  return true;
}

Result<Session> Accounts::Resume(std::string_view session_id) {
  if (!IsSessionId(session_id)) return Error::NotFound("no session");
  const std::int64_t now = ToUnix(clock_.Now());
  const std::string id_hash = crypto::Sha256Hex(session_id);
  PG_TRY(auto s, users_.FindSession(id_hash));
  if (now - s.last_seen_at >= options_.idle_seconds || now - s.created_at >= options_.absolute_seconds) {
    PG_TRY_STATUS(users_.DeleteSession(id_hash));
    return Error::NotFound("session expired");
  }
  PG_TRY(auto record, users_.FindUserById(s.user_id));
  Session out;
  PG_TRY(out.user, ToPortalUser(record));
  out.id_hash = id_hash;
  out.csrf_token = CsrfToken(session_id);
  PG_TRY_STATUS(users_.TouchSession(id_hash, now));
  return out;
}

Status Accounts::SignOut(const Session& session) { return users_.DeleteSession(session.id_hash); }

Result<std::int64_t> Accounts::SignOutEverywhere(const Session& session) {
  return users_.DeleteUserSessions(session.user.id);
}

}  // namespace provgate::portal
