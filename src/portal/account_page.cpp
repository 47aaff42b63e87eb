// The signed-in user's own second factor: (re-)enrolment of an authenticator app. The page
// shows a new secret as an otpauth:// URI in a QR code (portal/qr.hpp) and as text; it
// becomes the user's only when confirmed with the user's password and a current code of the
// new secret (Accounts::ConfirmEnrolment). Until then nothing is stored: the pending secret
// travels in the confirmation form sealed with the master key. Audited with the socket's peer.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "portal/html.hpp"
#include "portal/portal.hpp"
#include "portal/qr.hpp"
#include "portal/request.hpp"

namespace provgate::portal {

using api::ApiResponse;

namespace {

constexpr int kQrPixels = 256;

std::string EnrolmentBody(const Enrolment& e, const Session& s, std::string_view error) {
  Html h;
  if (!error.empty()) h.Raw("<p class=\"error\" id=\"error\">").Text(error).Raw("</p>");
  h.Raw(
      "<p>Scan the code with your authenticator app (or type the secret), then confirm with your password and "
      "the code the app shows. Until you confirm, your current authenticator stays valid.</p>");
  const auto qr = QrSvg(e.otpauth_uri, kQrPixels);
  if (qr) h.Raw("<div class=\"qr\" id=\"qr\">").Raw(*qr).Raw("</div>");
  h.Raw("<table id=\"enrolment\"><tbody><tr><th>Secret</th><td><code id=\"totp-secret\">")
      .Text(e.secret)
      .Raw("</code></td></tr><tr><th>URI (what the code holds)</th><td><code id=\"otpauth-uri\">")
      .Text(e.otpauth_uri)
      .Raw("</code></td></tr></tbody></table>")
      .Raw("<form method=\"post\" action=\"/portal/account/totp\" class=\"login\">")
      .Csrf(s.csrf_token)
      .Raw("<input type=\"hidden\" name=\"pending\"")
      .Attr("value", e.pending)
      .Raw(
          "><label>Your password <input type=\"password\" name=\"password\" id=\"password\" "
          "autocomplete=\"current-password\" required></label><label>Code from the new secret <input name=\"code\" "
          "id=\"code\" autocomplete=\"one-time-code\" inputmode=\"numeric\" required></label>"
          "<button type=\"submit\" id=\"confirm-totp\">Use the new authenticator</button></form>");
  return h.Take();
}

}  // namespace

ApiResponse Portal::TotpEnrolment(Request& r, std::string_view error) {
  const Session& s = *r.session;
  auto enrolment = accounts_.StartEnrolment(s.user);
  if (!enrolment) return ErrorPage(r, 500, "Enrolment is not available right now.");
  return HtmlResponse(error.empty() ? 200 : 403,
                      Page("Authenticator app", s.user.name, s.csrf_token, EnrolmentBody(*enrolment, s, error)));
}

ApiResponse Portal::ConfirmTotp(Request& r) {
  const Session& s = *r.session;
  const auto scope = ScopeId(s);
  auto ok = accounts_.ConfirmEnrolment(s.user, r.form["pending"], r.form["password"], r.form["code"]);
  if (!ok) {
    spdlog::error("portal TOTP enrolment failed: {}", ok.error().message);
    return ErrorPage(r, 500, "Enrolment is not available right now.");
  }
  if (!*ok) {
    Audit(r, s.user.actor(), "portal authenticator enrolment refused", 403, "", scope, audit::Durability::kWindowed);
    return TotpEnrolment(r, "Not changed: the password or the code was wrong, or the page was too old.");
  }
  if (!Audit(r, s.user.actor(), "portal authenticator enrolled", 200, "", scope, audit::Durability::kDurable))
    return NotAudited(r);
  Html h;
  h.Raw("<div class=\"notice\" id=\"notice\">The new authenticator is in use; the old one no longer works.</div>");
  return HtmlResponse(200, Page("Authenticator app", s.user.name, s.csrf_token, h.Take()));
}

}  // namespace provgate::portal
