#include "portal/portal.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/query.hpp"
#include "crypto/random.hpp"
#include "portal/assets.hpp"
#include "portal/form.hpp"
#include "portal/html.hpp"
#include "portal/multipart.hpp"
#include "portal/request.hpp"

namespace provgate::portal {

using api::ApiRequest;
using api::ApiResponse;

namespace {

constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'";

std::string CookieHeader(std::string_view name, std::string_view value, std::int64_t max_age) {
  return fmt::format("{}={}; Secure; HttpOnly; SameSite=Strict; Path=/portal; Max-Age={}", name, value, max_age);
}

std::string MediaType(const ApiRequest& r) {
  const auto semi = r.content_type.find(';');
  std::string type = r.content_type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

bool IsFormPost(const ApiRequest& r) { return MediaType(r) == "application/x-www-form-urlencoded"; }

// The one page that takes a file: the CSV import.
bool IsUpload(const ApiRequest& r) {
  const auto q = r.target.find('?');
  return r.method == "POST" && r.target.substr(0, q) == "/portal/import" && MediaType(r) == "multipart/form-data";
}

// The text fields of a multipart form into `form`, its "file" part into `upload`.
Status ReadUpload(const ApiRequest& http, std::map<std::string, std::string>& form, std::string_view& upload) {
  PG_TRY(auto boundary, MultipartBoundary(http.content_type));
  PG_TRY(auto parts, ParseMultipart(boundary, http.body));
  for (const auto& part : parts) {
    if (part.name == "file") {
      upload = part.body;
    } else if (part.filename.empty() && part.body.size() <= 256) {
      form[part.name] = std::string(part.body);
    }
  }
  return Ok();
}

}  // namespace

ApiResponse HtmlResponse(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  r.headers.emplace_back("Content-Security-Policy", std::string(kCsp));
  return r;
}

ApiResponse Redirect(std::string location) {
  ApiResponse r = HtmlResponse(303, "");
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

ApiResponse ErrorPage(const Portal::Request& r, int status, std::string_view message) {
  Html body;
  body.Raw("<p class=\"error\" id=\"error\">").Text(message).Raw("</p>");
  const std::string user = r.session ? r.session->user.name : "";
  const std::string csrf = r.session ? r.session->csrf_token : "";
  return HtmlResponse(status, Page(status == 404 ? "Not found" : "Refused", user, csrf, body.Take()));
}

Portal::Portal(PortalDeps deps, PortalOptions options)
    : deps_(deps),
      options_(options),
      accounts_(deps.users, deps.store, deps.box, deps.audit, deps.clock, options.accounts),
      throttle_(options.sign_in_failures) {}

Portal::~Portal() = default;

bool Portal::Serves(std::string_view target) const {
  return target == "/portal" || target.starts_with("/portal/") || target.starts_with("/portal?");
}

api::BodyAdmission Portal::AdmitBody(const ApiRequest& head) {
  if (IsUpload(head)) return {kMaxImportUploadBytes, false};
  if (head.method != "POST" || !IsFormPost(head)) return {};
  return {kMaxFormBytes, false};
}

Status Portal::Audit(const Request& r, const std::string& actor, const std::string& what, int status,
                     const std::string& mac, std::optional<std::int64_t> tenant_id, audit::Durability durability) {
  nlohmann::json detail = {{"method", r.http.method}, {"path", r.path}};
  audit::AuditRecord rec = audit::InfoRecord(deps_.clock.Now(), "admin", actor, what, mac, std::move(detail));
  rec.decision = status < 400 ? "info" : "deny";
  rec.listener = r.http.listener;
  rec.peer = r.http.peer;
  rec.status = status;
  rec.tenant_id = tenant_id.value_or(0);
  auto st = durability == audit::Durability::kDurable ? deps_.audit.Write(rec, durability)
                                                      : deps_.audit.Record(std::move(rec));
  if (!st) {
    spdlog::error("portal audit write failed: {}", st.error().message);
  }
  return st;
}

ApiResponse Portal::NotAudited(const Request& r) {
  return ErrorPage(r, 500,
                   "This action could not be audited (the audit log could not be written); nothing secret was "
                   "shown. Check the server's log and the audit disk before trying again.");
}

ApiResponse Portal::Handle(const ApiRequest& http) {
  Request r{http};
  const auto q = http.target.find('?');
  r.path = http.target.substr(0, q);
  if (r.path == "/portal" || r.path == "/portal/") return Redirect("/portal/devices");
  auto target = api::ParseTarget(http.target);
  if (!target) return ErrorPage(r, 400, "The address is malformed.");
  r.target = std::move(*target);
  const auto& seg = r.target.segments;
  if (http.method != "GET" && http.method != "POST") {
    ApiResponse refused = ErrorPage(r, 405, "Only GET and POST are served here.");
    refused.headers.emplace_back("Allow", "GET, POST");
    return refused;
  }
  if (seg.size() == 3 && seg[1] == "static" && http.method == "GET") {
    const auto asset = FindAsset(seg[2]);
    if (!asset) return ErrorPage(r, 404, "No such page.");
    ApiResponse a = HtmlResponse(200, std::string(asset->body));
    a.content_type = std::string(asset->content_type);
    return a;
  }
  if (http.method == "POST") {
    // An empty POST is an empty form (refused below for its missing CSRF token).
    if (http.body_withheld || (!http.body.empty() && !IsFormPost(http) && !IsUpload(http))) {
      return ErrorPage(r, 415, "The form could not be read.");
    }
    if (IsUpload(http)) {
      if (!ReadUpload(http, r.form, r.upload)) return ErrorPage(r, 400, "The upload could not be read.");
    } else {
      auto form = ParseForm(http.body);
      if (!form) return ErrorPage(r, 400, "The form could not be read.");
      r.form = std::move(*form);
    }
  }
  if (seg.size() == 2 && seg[1] == "login") {
    return http.method == "GET" ? LoginPage("") : Login(r);
  }
  if (const auto cookie = FindCookie(http.cookie, kSessionCookie)) {
    if (auto session = accounts_.Resume(*cookie)) r.session = std::move(*session);
  }
  if (!r.session) {
    if (http.method == "GET") return Redirect("/portal/login");
    return ErrorPage(r, 403, "Your session has ended; sign in again.");
  }
  if (http.method == "POST") {
    const auto it = r.form.find("csrf");
    if (it == r.form.end() || !crypto::ConstantTimeEquals(it->second, r.session->csrf_token)) {
      Audit(r, r.session->user.actor(), "portal request refused: missing or wrong CSRF token", 403, "",
            r.session->user.tenant ? std::optional(r.session->user.tenant->id) : std::nullopt,
            audit::Durability::kWindowed);
      return ErrorPage(r, 403, "The form is out of date; reload the page and try again.");
    }
  }
  return Route(r);
}

ApiResponse Portal::Route(Request& r) {
  const auto& seg = r.target.segments;
  const bool post = r.http.method == "POST";
  if (post && seg.size() == 2 && seg[1] == "logout") return Logout(r, SignOutScope::kThisSession);
  if (post && seg.size() == 2 && seg[1] == "logout-all") return Logout(r, SignOutScope::kEverywhere);
  if (!post && seg.size() == 2 && seg[1] == "devices") return DeviceList(r);
  if (!post && seg.size() == 2 && seg[1] == "overview") return Overview(r);
  if (!post && seg.size() == 2 && seg[1] == "bans") return BansPage(r, "");
  if (post && seg.size() == 3 && seg[1] == "bans") return BanAction(r, seg[2]);
  if (!post && seg.size() == 2 && seg[1] == "audit") return AuditSearch(r);
  if (seg.size() == 2 && seg[1] == "import") return post ? Import(r) : ImportForm(r);
  if (!post && seg.size() == 2 && seg[1] == "users") return UsersPage(r, "");
  if (post && seg.size() == 3 && seg[1] == "users" && seg[2] == "add") return AddUser(r);
  if (post && seg.size() == 4 && seg[1] == "users") return UserAction(r, seg[2], seg[3]);
  if (seg.size() == 3 && seg[1] == "account" && seg[2] == "totp") return post ? ConfirmTotp(r) : TotpEnrolment(r, "");
  if (!post && seg.size() == 3 && seg[1] == "devices") return DevicePage(r, seg[2], "");
  if (post && seg.size() == 4 && seg[1] == "devices" && seg[3] == "reveal") return RevealLine(r, seg[2]);
  if (post && seg.size() == 4 && seg[1] == "devices" && seg[3] == "engineer-password") {
    return EngineerPassword(r, seg[2]);
  }
  if (post && seg.size() == 4 && seg[1] == "devices" && seg[3].starts_with("credential-")) {
    return Credential(r, seg[2], seg[3]);
  }
  if (post && seg.size() == 4 && seg[1] == "devices") return DeviceAction(r, seg[2], seg[3]);
  return ErrorPage(r, 404, "No such page.");
}

ApiResponse Portal::LoginPage(std::string_view error) {
  // The sign-in form's CSRF token comes from a cookie set with the form, so that another
  // site cannot sign a browser in to an account of its choosing.
  const auto bytes = crypto::RandomBytes(32);
  const std::string pre_session = crypto::HexEncode(bytes.data(), bytes.size());
  Html body;
  if (!error.empty()) body.Raw("<p class=\"error\" id=\"error\">").Text(error).Raw("</p>");
  body.Raw("<form class=\"login\" method=\"post\" action=\"/portal/login\">")
      .Csrf(Accounts::CsrfToken(pre_session))
      .Raw(
          "<label>User <input name=\"user\" id=\"user\" autocomplete=\"username\" required></label>"
          "<label>Password <input type=\"password\" name=\"password\" id=\"password\" "
          "autocomplete=\"current-password\" required></label>"
          "<label>Authenticator code or recovery code <input name=\"code\" id=\"code\" "
          "autocomplete=\"one-time-code\" inputmode=\"numeric\" required></label>"
          "<button type=\"submit\" id=\"sign-in\">Sign in</button></form>");
  ApiResponse resp = HtmlResponse(error.empty() ? 200 : 401, Page("Sign in", "", "", body.Take()));
  resp.headers.emplace_back("Set-Cookie", CookieHeader(kLoginCookie, pre_session, 3600));
  return resp;
}

ApiResponse Portal::Login(Request& r) {
  const std::int64_t now = ToUnix(deps_.clock.Now());
  const std::string peer = r.http.peer_ip;
  const std::string name = r.form.contains("user") ? r.form["user"] : "";
  const auto pre_session = FindCookie(r.http.cookie, kLoginCookie);
  const auto csrf = r.form.find("csrf");
  if (!pre_session || csrf == r.form.end() ||
      !crypto::ConstantTimeEquals(csrf->second, Accounts::CsrfToken(*pre_session))) {
    Audit(r, "portal:-", "portal sign-in refused: missing or wrong CSRF token", 403, "", std::nullopt,
          audit::Durability::kWindowed);
    return LoginPage("The sign-in form is out of date; try again.");
  }
  const std::string user_key = "user:" + name;
  if (const auto wait = throttle_.SourceBlocked(peer, now); wait > 0) {
    Audit(r, "portal:-", "portal sign-in refused: source throttled", 429, "", std::nullopt,
          audit::Durability::kWindowed);
    ApiResponse resp = LoginPage("Too many failed sign-ins from this address; try again later.");
    resp.status = 429;
    resp.headers.emplace_back("Retry-After", std::to_string(wait));
    return resp;
  }
  // What was typed as the user name is recorded only once it names a user: it may be a
  // password typed into the wrong field.
  if (throttle_.PrefixBlocked(user_key, now) > 0) {
    (void)Audit(r, "portal:-", "portal sign-in failed: user name throttled", 401, "", std::nullopt,
                audit::Durability::kWindowed);
    return LoginPage("Sign-in failed.");
  }
  auto outcome = accounts_.SignIn(name, r.form["password"], r.form["code"]);
  if (!outcome) {
    spdlog::error("portal sign-in failed: {}", outcome.error().message);
    return ErrorPage(r, 500, "Sign-in is not available right now.");
  }
  if (!outcome->user) {
    throttle_.RecordFailure(peer, user_key, now);
    const std::string actor = outcome->failure == SignInFailure::kUnknownUser ? "portal:-" : "portal:" + name;
    (void)Audit(r, actor, fmt::format("portal sign-in failed: {}", SignInFailureName(outcome->failure)), 401, "",
                std::nullopt, audit::Durability::kWindowed);
    if (outcome->locked_now) {
      (void)Audit(r, "portal:" + name, "portal user locked: repeated wrong second factor", 401, "", std::nullopt,
                  audit::Durability::kDurable);  // the answer is a refusal either way
    }
    return LoginPage("Sign-in failed.");
  }
  // A session the browser still held is ended: sign-in always starts a new one.
  if (const auto old = FindCookie(r.http.cookie, kSessionCookie)) {
    if (auto s = accounts_.Resume(*old)) (void)accounts_.SignOut(*s);
  }
  const auto& user = *outcome->user;
  if (!Audit(r, user.actor(), "portal sign-in", 303, "", user.tenant ? std::optional(user.tenant->id) : std::nullopt,
             audit::Durability::kDurable)) {
    if (auto s = accounts_.Resume(outcome->session_id)) (void)accounts_.SignOut(*s);  // no unaudited session
    return NotAudited(r);
  }
  ApiResponse resp = Redirect("/portal/devices");
  resp.headers.emplace_back("Set-Cookie",
                            CookieHeader(kSessionCookie, outcome->session_id, options_.accounts.absolute_seconds));
  resp.headers.emplace_back("Set-Cookie", CookieHeader(kLoginCookie, "", 0));
  return resp;
}

ApiResponse Portal::Logout(Request& r, SignOutScope scope) {
  const auto& s = *r.session;
  std::string what = "portal sign-out";
  if (scope == SignOutScope::kEverywhere) {
    auto n = accounts_.SignOutEverywhere(s);
    if (!n) return ErrorPage(r, 500, "Sign-out failed; try again.");
    what = fmt::format("portal sign-out everywhere ({} sessions)", *n);
  } else if (auto st = accounts_.SignOut(s); !st) {
    return ErrorPage(r, 500, "Sign-out failed; try again.");
  }
  if (!Audit(r, s.user.actor(), what, 303, "", s.user.tenant ? std::optional(s.user.tenant->id) : std::nullopt,
             audit::Durability::kDurable)) {
    return NotAudited(r);
  }
  ApiResponse resp = Redirect("/portal/login");
  resp.headers.emplace_back("Set-Cookie", CookieHeader(kSessionCookie, "", 0));
  return resp;
}

}  // namespace provgate::portal
