// User management: an admin manages every portal user, a tenant-admin the users of its own
// tenant (a user outside it answers as an absent one, 404). List, add (the initial password,
// TOTP secret with its QR code and recovery codes shown once), disable and enable (a
// disabled user is locked until kDisabledUntil and its sessions end), reset the second
// factor (shown once, sessions end) and remove. Nobody acts on their own account here.
// Roles and scopes are those of API keys (Accounts::AddUser checks them). Audited with the
// socket's peer; never a secret.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/api.hpp"
#include "api/problem.hpp"
#include "crypto/random.hpp"
#include "portal/html.hpp"
#include "portal/portal.hpp"
#include "portal/qr.hpp"
#include "portal/request.hpp"

namespace provgate::portal {

using api::ApiResponse;

namespace {

// The locked_until of a disabled user: the last second of year 9999.
constexpr std::int64_t kDisabledUntil = 253'402'300'799;
constexpr size_t kInitialPasswordLength = 20;
constexpr std::string_view kPasswordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
constexpr int kQrPixels = 224;

bool ManagesUsers(const Session& s) {
  return s.user.role == service::Role::kAdmin || s.user.role == service::Role::kTenantAdmin;
}

std::string UserState(const UserRecord& u, std::int64_t now) {
  if (u.locked_until >= kDisabledUntil) return "disabled";
  if (u.locked_until > now) return "locked until " + When(u.locked_until);
  return "active";
}

void UserForm(Html& h, const UserRecord& u, std::string_view action, std::string_view label, const Session& s) {
  h.Raw("<form method=\"post\"").Attr("action", fmt::format("/portal/users/{}/{}", u.id, action)).Raw(">");
  h.Csrf(s.csrf_token).Raw("<button type=\"submit\"");
  h.Attr("id", fmt::format("{}-{}", action, u.name)).Raw(">").Text(label).Raw("</button></form>");
}

void UserTable(Html& h, const std::vector<UserRecord>& users, const Session& s, std::int64_t now) {
  h.Raw(
      "<table id=\"users\"><thead><tr><th>User</th><th>Role</th><th>Tenant</th><th>State</th><th>Added by</th>"
      "<th>Added</th><th></th></tr></thead><tbody>");
  for (const auto& u : users) {
    h.Raw("<tr><td>").Text(u.name).Raw("</td><td>").Text(u.role).Raw("</td><td>").Text(u.tenant_name);
    h.Raw("</td><td>").Text(UserState(u, now)).Raw("</td><td>").Text(u.created_by).Raw("</td><td>");
    h.Text(When(u.created_at)).Raw("</td><td class=\"actions\">");
    if (u.id != s.user.id) {
      if (u.locked_until > now) {
        UserForm(h, u, "enable", "Enable", s);
      } else {
        UserForm(h, u, "disable", "Disable", s);
      }
      UserForm(h, u, "reset-2fa", "Reset second factor", s);
      UserForm(h, u, "remove", "Remove", s);
    }
    h.Raw("</td></tr>");
  }
  h.Raw("</tbody></table>");
}

void AddUserForm(Html& h, const Session& s) {
  h.Raw("<h2>Add a user</h2><form method=\"post\" action=\"/portal/users/add\" class=\"filters\">")
      .Csrf(s.csrf_token)
      .Raw("<label>Name <input name=\"name\" id=\"new-name\" required maxlength=\"64\"></label> ")
      .Raw("<label>Role <select name=\"role\" id=\"new-role\">");
  for (const auto role :
       {service::Role::kAdmin, service::Role::kTenantAdmin, service::Role::kSupport, service::Role::kAuditor}) {
    if (s.user.tenant && role == service::Role::kAdmin) continue;
    const std::string name(service::RoleName(role));
    h.Raw("<option").Attr("value", name).Raw(">").Text(name).Raw("</option>");
  }
  h.Raw("</select></label> ");
  if (!s.user.tenant) {
    h.Raw("<label>Tenant <input name=\"tenant\" id=\"new-tenant\" placeholder=\"none: platform\"></label> ");
  }
  h.Raw("<button type=\"submit\" id=\"add-user\">Add</button></form>");
}

// The secrets of a new user or a reset second factor, shown once.
void ShownOnce(Html& h, const NewUser& u, const std::string* password) {
  h.Raw(
       "<div class=\"notice\" id=\"notice\">Shown once: hand these to the user over a safe channel. They are not "
       "shown again.</div><table id=\"new-user\"><tbody><tr><th>User</th><td><code id=\"new-user-name\">")
      .Text(u.user.name)
      .Raw("</code></td></tr>");
  if (password != nullptr) {
    h.Raw("<tr><th>Initial password</th><td><code id=\"new-password\">").Text(*password).Raw("</code></td></tr>");
  }
  h.Raw("<tr><th>TOTP secret</th><td><code id=\"totp-secret\">").Text(u.totp_secret);
  h.Raw("</code></td></tr><tr><th>URI</th><td><code id=\"otpauth-uri\">").Text(u.otpauth_uri);
  h.Raw("</code></td></tr><tr><th>Recovery codes</th><td id=\"recovery-codes\">");
  for (const auto& c : u.recovery_codes) h.Raw("<code>").Text(c).Raw("</code> ");
  h.Raw("</td></tr></tbody></table>");
  if (auto qr = QrSvg(u.otpauth_uri, kQrPixels)) h.Raw("<div class=\"qr\" id=\"qr\">").Raw(*qr).Raw("</div>");
}

}  // namespace

ApiResponse Portal::UsersPage(Request& r, std::string_view notice_html) {
  const Session& s = *r.session;
  if (!ManagesUsers(s)) return ErrorPage(r, 403, "Your role may not manage users.");
  auto users = deps_.users.ListUsers(ScopeId(s));
  if (!users) return ErrorPage(r, 500, "The users are not available right now.");
  Html h;
  h.Raw(notice_html);
  UserTable(h, *users, s, ToUnix(deps_.clock.Now()));
  AddUserForm(h, s);
  return HtmlResponse(200, Page("Users", s.user.name, s.csrf_token, h.Take()));
}

ApiResponse Portal::AddUser(Request& r) {
  const Session& s = *r.session;
  if (!ManagesUsers(s)) {
    Audit(r, s.user.actor(), "portal user add refused: role", 403, "", ScopeId(s), audit::Durability::kWindowed);
    return ErrorPage(r, 403, "Your role may not manage users.");
  }
  // A tenant-admin adds users to its own tenant only, whatever the form says.
  const std::string tenant = s.user.tenant ? s.user.tenant->name : r.form["tenant"];
  auto password = crypto::RandomPassword(kInitialPasswordLength, kPasswordAlphabet);
  if (!password) return ErrorPage(r, 500, "Users cannot be added right now.");
  auto added = accounts_.AddUser(r.form["name"], r.form["role"], tenant, *password, s.user.actor());
  if (!added) {
    const int status = api::StatusOf(added.error().code);
    Audit(r, s.user.actor(), "portal user add refused", status, "", ScopeId(s), audit::Durability::kWindowed);
    if (status >= 500) return ErrorPage(r, status, "Users cannot be added right now.");
    return ErrorPage(r, status == 404 ? 400 : status,
                     status == 404 ? "No such tenant." : "Not added: " + added.error().message);
  }
  if (!Audit(r, s.user.actor(), "portal user added: " + added->user.name, 200, "", ScopeId(s),
             audit::Durability::kDurable))
    return NotAudited(r);
  Html h;
  ShownOnce(h, *added, &*password);
  return UsersPage(r, h.Take());
}

ApiResponse Portal::UserAction(Request& r, const std::string& id_text, const std::string& action) {
  const Session& s = *r.session;
  const std::string what = "portal user " + action;
  if (action != "disable" && action != "enable" && action != "reset-2fa" && action != "remove") {
    return ErrorPage(r, 404, "No such action.");
  }
  if (!ManagesUsers(s)) {
    Audit(r, s.user.actor(), what + " refused: role", 403, "", ScopeId(s), audit::Durability::kWindowed);
    return ErrorPage(r, 403, "Your role may not manage users.");
  }
  const auto id = WholeNumber(id_text, 1, INT64_MAX);
  auto user = id ? deps_.users.FindUserById(*id) : Result<UserRecord>(Error::NotFound("no such user"));
  // Another tenant's user (or a platform user, for a tenant-admin) answers as an absent one.
  if (user && s.user.tenant && user->tenant_id != std::optional(s.user.tenant->id)) {
    user = Error::NotFound("no such user");
  }
  if (!user) {
    const int status = api::StatusOf(user.error().code);
    Audit(r, s.user.actor(), what + " refused", status, "", ScopeId(s), audit::Durability::kWindowed);
    return ErrorPage(r, status, status == 404 ? "No such user." : "The user is not available right now.");
  }
  if (user->id == s.user.id) return ErrorPage(r, 400, "Not on your own account.");
  Html notice;
  Status done = Ok();
  if (action == "disable") {
    done = deps_.users.SetLockedUntil(user->id, kDisabledUntil);
    if (done) {
      auto ended = deps_.users.DeleteUserSessions(user->id);
      done = ended ? Ok() : Status(ended.error());
    }
  } else if (action == "enable") {
    done = deps_.users.SetLockedUntil(user->id, 0);
  } else if (action == "remove") {
    done = deps_.users.DeleteUser(user->id);
  } else {
    auto reset = accounts_.ResetSecondFactor(*user);
    if (reset) ShownOnce(notice, *reset, nullptr);
    done = reset ? Ok() : Status(reset.error());
  }
  if (!done) {
    spdlog::error("portal {} failed: {}", what, done.error().message);
    return ErrorPage(r, 500, "The change failed; try again.");
  }
  if (!Audit(r, s.user.actor(), what + ": " + user->name, 200, "", user->tenant_id, audit::Durability::kDurable))
    return NotAudited(r);
  if (action != "reset-2fa") {
    notice.Raw("<div class=\"notice\" id=\"notice\">").Text(fmt::format("Done: {} {}.", action, user->name));
    notice.Raw("</div>");
  }
  return UsersPage(r, notice.Take());
}

}  // namespace provgate::portal
