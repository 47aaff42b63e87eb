// The pages that show a secret once: a softphone line's SIP credentials with a QR code to
// scan (after the user re-entered the password or a TOTP code), and a phone's web admin
// password for an engineer. Each is audited with the socket's peer, refusals included; the
// secret itself never reaches a log or an audit record.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "api/api.hpp"
#include "api/problem.hpp"
#include "portal/html.hpp"
#include "portal/portal.hpp"
#include "portal/qr.hpp"
#include "portal/request.hpp"

namespace provgate::portal {

using api::ApiResponse;
using api::Permission;

namespace {

constexpr int kQrPixels = 288;
constexpr std::int64_t kMaxLineIndex = 999;

// The credentials as a table a person can copy from, and the same as a QR code (or a note
// when the account does not fit one: the password is spent, so the page shows it anyway).
std::string CredentialsBody(const core::Line& line, const std::string& password) {
  const std::string uri = SipAccountUri(line, password);
  const auto qr = QrSvg(uri, kQrPixels);
  Html h;
  h.Raw(
      "<div class=\"notice\" id=\"notice\">Shown once: copy the credentials or scan the code now. They are not "
      "shown again until the device is re-activated, which sets a new password.</div>"
      "<table id=\"credentials\"><tbody>");
  auto row = [&h](std::string_view k, std::string_view v, std::string_view id) {
    h.Raw("<tr><th>").Text(k).Raw("</th><td").Attr("id", id).Raw("><code>").Text(v).Raw("</code></td></tr>");
  };
  row("Line", std::to_string(line.index), "sip-line");
  row("User", line.user, "sip-user");
  row("Authentication user", line.auth_user.empty() ? line.user : line.auth_user, "sip-auth-user");
  row("Password", password, "sip-password");
  row("Server / domain", line.registrar, "sip-server");
  row("Port", std::to_string(line.port), "sip-port");
  row("Transport", core::TransportName(line.transport), "sip-transport");
  row("SIP URI (what the code holds)", uri, "sip-uri");
  h.Raw("</tbody></table><h2>Scan with the softphone</h2>");
  if (qr) {
    h.Raw("<div class=\"qr\" id=\"qr\">").Raw(*qr).Raw("</div>");
  } else {
    h.Raw("<p id=\"qr\">The account is too long for a QR code; enter it by hand.</p>");
  }
  return h.Take();
}

}  // namespace

ApiResponse Portal::RevealLine(Request& r, const std::string& mac) {
  const Session& s = *r.session;
  const auto scope = ScopeId(s);
  const std::string actor = s.user.actor();
  if (!api::RoleAllows(s.user.role, Permission::kDeviceWrite)) {
    Audit(r, actor, "portal reveal refused: role", 403, "", scope, audit::Durability::kWindowed);
    return ErrorPage(r, 403, "Your role may not reveal credentials.");
  }
  const auto parsed = WholeNumber(r.form["line"], 1, kMaxLineIndex);
  if (!parsed) return ErrorPage(r, 400, "Name the line to reveal.");
  const int index = static_cast<int>(*parsed);
  auto admin = AdminFor(deps_, s);
  // A device outside the user's tenant answers as an absent one before anything is checked.
  if (auto shown = admin->ShowDevice(mac); !shown) {
    const int status = api::StatusOf(shown.error().code);
    Audit(r, actor, "portal reveal refused", status, "", scope, audit::Durability::kWindowed);
    return ErrorPage(r, status, status == 404 ? "No such device." : "The device is not available right now.");
  }
  auto reauth = accounts_.Reauthenticate(s.user, r.form["reauth"]);
  if (!reauth) {
    spdlog::error("portal re-authentication failed: {}", reauth.error().message);
    return ErrorPage(r, 500, "Re-authentication is not available right now.");
  }
  if (!*reauth) {
    Audit(r, actor, fmt::format("portal reveal refused: re-authentication failed (line {})", index), 403, mac, scope,
          audit::Durability::kWindowed);
    return ErrorPage(r, 403, "That is neither your password nor a current authenticator code.");
  }
  auto line = admin->RevealSoftphoneLine(mac, index);
  if (!line) {
    const int status = api::StatusOf(line.error().code);
    Audit(r, actor, fmt::format("portal reveal refused (line {})", index), status, mac, scope,
          audit::Durability::kWindowed);
    return ErrorPage(r, status, status == 404 ? "No such line." : line.error().message);
  }
  if (!Audit(r, actor, fmt::format("portal reveal (line {})", index), 200, mac, scope, audit::Durability::kDurable))
    return NotAudited(r);
  return HtmlResponse(200, Page("Softphone credentials", s.user.name, s.csrf_token,
                                CredentialsBody(*line, line->password.value_or(""))));
}

ApiResponse Portal::EngineerPassword(Request& r, const std::string& mac) {
  const Session& s = *r.session;
  const auto scope = ScopeId(s);
  const std::string actor = s.user.actor();
  if (!api::RoleAllows(s.user.role, Permission::kSupport)) {
    Audit(r, actor, "portal engineer password refused: role", 403, "", scope, audit::Durability::kWindowed);
    return ErrorPage(r, 403, "Your role may not do this.");
  }
  auto issued = AdminFor(deps_, s)->IssueEngineerPassword(mac, options_.engineer_window_seconds);
  if (!issued) {
    const int status = api::StatusOf(issued.error().code);
    Audit(r, actor, "portal engineer password refused", status, status == 404 ? "" : mac, scope,
          audit::Durability::kWindowed);
    return ErrorPage(r, status, status == 404 ? "No such device." : issued.error().message);
  }
  if (!Audit(r, actor, "portal engineer password", 200, mac, scope, audit::Durability::kDurable)) return NotAudited(r);
  std::string keys;
  for (const auto key : issued->keys) keys += (keys.empty() ? "" : ", ") + std::string(key);
  Html notice;
  notice.Raw("Web admin password for the engineer (shown once): <code id=\"engineer-password\">")
      .Text(issued->password)
      .Raw("</code>. The phone takes it at its next config fetch (config keys: ")
      .Text(keys)
      .Raw("). Its first config fetch after <b id=\"engineer-window-ends\">")
      .Text(When(issued->window_ends))
      .Raw("</b> sets a new password that nobody is shown.");
  return DevicePage(r, mac, notice.Take());
}

namespace {

struct CredentialAction {
  std::string_view action;  // the URL's last segment
  service::CredentialKind kind;
  bool issue;  // or revoke
  std::string_view what;
};

constexpr std::array<CredentialAction, 4> kCredentialActions = {{
    {"credential-token", service::CredentialKind::kUrlToken, true, "URL token"},
    {"credential-token-revoke", service::CredentialKind::kUrlToken, false, "URL token"},
    {"credential-digest", service::CredentialKind::kDigestPassword, true, "digest password"},
    {"credential-digest-revoke", service::CredentialKind::kDigestPassword, false, "digest password"},
}};

}  // namespace

ApiResponse Portal::Credential(Request& r, const std::string& mac, const std::string& action) {
  const Session& s = *r.session;
  const auto scope = ScopeId(s);
  const std::string actor = s.user.actor();
  const auto* found = std::find_if(kCredentialActions.begin(), kCredentialActions.end(),
                                   [&](const CredentialAction& a) { return a.action == action; });
  if (found == kCredentialActions.end()) return ErrorPage(r, 404, "No such action.");
  const std::string what = fmt::format("portal {} {}", found->issue ? "issue" : "revoke", found->what);
  if (!api::RoleAllows(s.user.role, Permission::kDeviceWrite)) {
    Audit(r, actor, what + " refused: role", 403, "", scope, audit::Durability::kWindowed);
    return ErrorPage(r, 403, "Your role may not do this.");
  }
  auto admin = AdminFor(deps_, s);
  Html notice;
  Status done = Ok();
  if (found->issue) {
    auto secret = admin->IssueCredential(mac, found->kind);
    if (secret) {
      notice.Raw("New ")
          .Text(found->what)
          .Raw(" (shown once; the old one stopped working): <code id=\"new-credential\">")
          .Text(*secret)
          .Raw("</code>");
    }
    done = secret ? Ok() : Status(secret.error());
  } else {
    done = admin->RevokeCredential(mac, found->kind);
    if (done) notice.Raw("Revoked the ").Text(found->what).Raw(".");
  }
  if (!done) {
    const int status = api::StatusOf(done.error().code);
    Audit(r, actor, what + " refused", status, status == 404 ? "" : mac, scope, audit::Durability::kWindowed);
    return ErrorPage(r, status, status == 404 ? "No such device." : done.error().message);
  }
  if (!Audit(r, actor, what, 200, mac, scope, audit::Durability::kDurable)) return NotAudited(r);
  return DevicePage(r, mac, notice.Take());
}

}  // namespace provgate::portal
