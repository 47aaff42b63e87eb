// The web portal under /portal on the admin listener: server-rendered pages for operators
// and tenant users. The request path reads top to bottom (Portal::Handle): static assets and
// the sign-in page need no session; every other page needs a live session (cookie
// pg_session, Secure, HttpOnly, SameSite=Strict, Path=/portal); every POST needs the
// session's CSRF token (the sign-in form a pre-session token in its own cookie); the role
// check follows the API's permissions (api::RoleAllows); then the page, which calls
// service::Admin confined to the user's tenant exactly as the API confines a key.
//
// Security contract: no page changes state on GET; a device of another tenant answers
// exactly as an absent one (404); every response carries a strict CSP (no inline script or
// style), no-store and frame-ancestors 'none'; nothing a client sent is trusted beyond the
// session cookie and the form (no upstream header, no client address but the socket's);
// sign-ins, failures, lockouts, sign-outs and actions are audited with the socket's peer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/auth_throttle.hpp"
#include "api/surface.hpp"
#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "portal/accounts.hpp"
#include "store/operator_store.hpp"
#include "store/store.hpp"
#include "vendors/vendor.hpp"

namespace provgate::portal {

inline constexpr std::string_view kSessionCookie = "pg_session";
inline constexpr std::string_view kLoginCookie = "pg_login";
inline constexpr size_t kMaxFormBytes = 16 * 1024;
// The CSV import's upload (multipart/form-data), read whole before it is checked.
inline constexpr size_t kMaxImportUploadBytes = 4 * 1024 * 1024;

struct PortalDeps {
  UserStore& users;
  store::Store& store;
  store::OperatorStore& operator_store;
  const crypto::SecretBox& box;
  audit::AuditLog& audit;
  const vendors::Registry& vendors;
  const Clock& clock;
};

struct PortalOptions {
  AccountOptions accounts;
  // Failed sign-ins per source and per user name (the name's limit locks it).
  api::AuthThrottleOptions sign_in_failures{5, 300, 900};
  // How long an engineer password stays the phone's web admin password: the device's first
  // device-file fetch after this many seconds replaces it.
  std::int64_t engineer_window_seconds = 3600;
};

class Portal final : public api::Surface {
 public:
  Portal(PortalDeps deps, PortalOptions options);
  ~Portal() override;

  bool Serves(std::string_view target) const override;
  api::BodyAdmission AdmitBody(const api::ApiRequest& head) override;
  api::ApiResponse Handle(const api::ApiRequest& request) override;

  struct Request;

 private:
  api::ApiResponse Route(Request& r);
  api::ApiResponse LoginPage(std::string_view error);
  api::ApiResponse Login(Request& r);
  enum class SignOutScope { kThisSession, kEverywhere };
  api::ApiResponse Logout(Request& r, SignOutScope scope);
  api::ApiResponse DeviceList(Request& r);
  api::ApiResponse DevicePage(Request& r, const std::string& mac, std::string_view notice);
  api::ApiResponse DeviceAction(Request& r, const std::string& mac, const std::string& action);
  // Secrets shown once (secrets.cpp): a softphone line's credentials with a QR code, after
  // the user re-entered the password or a TOTP code; an engineer's web admin password.
  api::ApiResponse RevealLine(Request& r, const std::string& mac);
  api::ApiResponse EngineerPassword(Request& r, const std::string& mac);
  // A device credential (URL token or digest password) issued or revoked (secrets.cpp).
  api::ApiResponse Credential(Request& r, const std::string& mac, const std::string& action);
  // Pictures of the fleet, each with its table (overview.cpp).
  api::ApiResponse Overview(Request& r);
  // Bans of scanning sources: list, lift, add (operator_pages.cpp).
  api::ApiResponse BansPage(Request& r, std::string_view notice);
  api::ApiResponse BanAction(Request& r, const std::string& action);
  // Audit records filtered and paginated (operator_pages.cpp).
  api::ApiResponse AuditSearch(Request& r);
  // The user's own authenticator: a new secret with its QR code, and its confirmation
  // (account_page.cpp).
  api::ApiResponse TotpEnrolment(Request& r, std::string_view error);
  api::ApiResponse ConfirmTotp(Request& r);
  // User management (users_page.cpp): the list with its actions and the add form; a new
  // user's or a reset second factor's secrets shown once (`notice_html` is portal markup).
  api::ApiResponse UsersPage(Request& r, std::string_view notice_html);
  api::ApiResponse AddUser(Request& r);
  api::ApiResponse UserAction(Request& r, const std::string& id, const std::string& action);
  // The CSV device import: the upload form and its result page (import_page.cpp).
  api::ApiResponse ImportForm(Request& r);
  api::ApiResponse Import(Request& r);
  // An audit record of the portal with the socket's peer, "info" below status 400 and
  // "deny" from it: kDurable for what changed state (sign-in, sign-out, lockout, an action),
  // kWindowed for refusals.
  // Writes the portal's audit record. A kDurable record (every state change, every secret
  // shown) is on disk when this returns Ok; the caller answers NotAudited(r) instead of its
  // page when it is not. A failed kWindowed record is logged.
  Status Audit(const Request& r, const std::string& actor, const std::string& what, int status, const std::string& mac,
               std::optional<std::int64_t> tenant_id, audit::Durability durability);
  // The answer to a request whose durable audit record could not be written.
  static api::ApiResponse NotAudited(const Request& r);

  PortalDeps deps_;
  PortalOptions options_;
  Accounts accounts_;
  api::AuthThrottle throttle_;
};

}  // namespace provgate::portal
