// The device pages: the list with its filters, one device with its lines, timeline and
// actions, and the actions themselves, all through service::Admin confined to the user's
// tenant (a device outside it answers as an absent one).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "api/api.hpp"
#include "api/problem.hpp"
#include "portal/html.hpp"
#include "portal/portal.hpp"
#include "portal/request.hpp"
#include "service/admin.hpp"

namespace provgate::portal {

using api::ApiResponse;
using api::Permission;

namespace {

constexpr size_t kListLimit = 200;
constexpr int kSearchScanLimit = 1000;
constexpr int kTimelineLimit = 50;

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ':' || c == '-' || c == '.') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// One action form; `confirm` adds the confirmation the server requires.
void ActionForm(Html& h, const std::string& mac, std::string_view action, std::string_view label, std::string_view csrf,
                std::string_view confirm) {
  h.Raw("<form method=\"post\"").Attr("action", "/portal/devices/" + mac + "/" + std::string(action));
  if (!confirm.empty()) h.Attr("data-confirm", confirm);
  h.Raw(">").Csrf(csrf);
  if (!confirm.empty()) {
    h.Raw("<label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required")
        .Attr("id", "confirm-" + std::string(action))
        .Raw("> I am sure</label> ");
  }
  h.Raw("<button type=\"submit\"")
      .Attr("id", "action-" + std::string(action))
      .Raw(">")
      .Text(label)
      .Raw("</button></form>");
}

// The reveal form of a softphone line: the user re-enters the password or a TOTP code.
void RevealForm(Html& h, const std::string& mac, int index, std::string_view csrf) {
  const std::string n = std::to_string(index);
  h.Raw("<form method=\"post\" class=\"reveal\"")
      .Attr("action", "/portal/devices/" + mac + "/reveal")
      .Raw(">")
      .Csrf(csrf)
      .Raw("<input type=\"hidden\" name=\"line\"")
      .Attr("value", n)
      .Raw("><label>Your password or authenticator code <input type=\"password\" name=\"reauth\" required")
      .Attr("id", "reauth-" + n)
      .Raw(" autocomplete=\"off\"></label> <button type=\"submit\"")
      .Attr("id", "reveal-" + n)
      .Raw(">Reveal line ")
      .Text(n)
      .Raw(" once</button></form>");
}

}  // namespace

const std::string* QueryValue(const api::Target& t, std::string_view name) {
  for (const auto& [k, v] : t.query) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::optional<std::int64_t> WholeNumber(std::string_view text, std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < min || n > max) return std::nullopt;
  return n;
}

std::string When(const std::optional<std::int64_t>& t) { return t ? FormatRfc3339(FromUnix(*t)) : "-"; }

std::optional<std::int64_t> ScopeId(const Session& s) {
  return s.user.tenant ? std::optional(s.user.tenant->id) : std::nullopt;
}

std::unique_ptr<service::Admin> AdminFor(const PortalDeps& deps, const Session& s) {
  auto admin = std::make_unique<service::Admin>(deps.store, deps.store, deps.store, deps.audit, deps.vendors,
                                                deps.clock, s.user.actor());
  if (s.user.tenant) admin->RestrictToTenant(*s.user.tenant);
  return admin;
}

ApiResponse Portal::DeviceList(Request& r) {
  const Session& s = *r.session;
  if (!api::RoleAllows(s.user.role, Permission::kRead)) return ErrorPage(r, 403, "Your role may not list devices.");
  const std::string search = QueryValue(r.target, "q") ? *QueryValue(r.target, "q") : "";
  const std::string state = QueryValue(r.target, "state") ? *QueryValue(r.target, "state") : "";
  const std::string vendor = QueryValue(r.target, "vendor") ? *QueryValue(r.target, "vendor") : "";
  if (search.size() > 64 || vendor.size() > 64) return ErrorPage(r, 400, "The filter is too long.");
  store::DeviceQuery query;
  query.tenant_id = ScopeId(s);
  query.now = ToUnix(deps_.clock.Now());
  query.vendor = vendor;
  query.limit = kSearchScanLimit;
  if (!state.empty()) {
    auto parsed = core::ParseDeviceState(state);
    if (!parsed) return ErrorPage(r, 400, "Unknown state.");
    query.state = *parsed;
  }
  auto devices = deps_.operator_store.QueryDevices(query);
  if (!devices) return ErrorPage(r, 500, "The device list is not available right now.");
  const std::string needle = Lower(search);

  Html h;
  h.Raw(
       "<form method=\"get\" action=\"/portal/devices\" class=\"filters\">"
       "<label>Search <input name=\"q\" id=\"q\" placeholder=\"MAC or serial\"")
      .Attr("value", search)
      .Raw("></label> <label>State <select name=\"state\" id=\"state\"><option value=\"\">any</option>");
  for (auto st : {core::DeviceState::kStock, core::DeviceState::kAssigned, core::DeviceState::kProvisioned,
                  core::DeviceState::kExpired, core::DeviceState::kRetired}) {
    const std::string name(core::DeviceStateName(st));
    h.Raw("<option").Attr("value", name).Raw(name == state ? " selected>" : ">").Text(name).Raw("</option>");
  }
  h.Raw("</select></label> <label>Vendor <select name=\"vendor\" id=\"vendor\"><option value=\"\">any</option>");
  for (const auto& name : deps_.vendors.Names()) {
    h.Raw("<option").Attr("value", name).Raw(name == vendor ? " selected>" : ">").Text(name).Raw("</option>");
  }
  h.Raw(
      "</select></label> <button type=\"submit\" id=\"filter\">Filter</button></form>"
      "<table id=\"devices\"><thead><tr><th>MAC</th><th>Vendor</th><th>Model</th><th>State</th><th>Lock</th>"
      "<th>Last seen</th><th>Serial</th></tr></thead><tbody>");
  size_t shown = 0;
  for (const auto& summary : *devices) {
    const auto& d = summary.device;
    if (!needle.empty() && d.mac.str().find(needle) == std::string::npos &&
        Lower(d.serial).find(needle) == std::string::npos) {
      continue;
    }
    if (++shown > kListLimit) break;
    h.Raw("<tr><td><a")
        .Attr("href", "/portal/devices/" + d.mac.str())
        .Raw(">")
        .Text(d.mac.WithColons())
        .Raw("</a></td><td>");
    h.Text(d.vendor).Raw("</td><td>").Text(d.model).Raw("</td><td>").Text(core::DeviceStateName(d.state));
    h.Raw("</td><td>");
    if (!d.locked_reason.empty()) h.Raw("<span class=\"locked\">").Text(d.locked_reason).Raw("</span>");
    h.Raw("</td><td>").Text(When(d.last_seen_at)).Raw("</td><td>").Text(d.serial).Raw("</td></tr>");
  }
  h.Raw("</tbody></table>");
  if (shown > kListLimit) h.Raw("<p>More devices match; narrow the filter.</p>");
  return HtmlResponse(200, Page("Devices", s.user.name, s.csrf_token, h.Take()));
}

ApiResponse Portal::DevicePage(Request& r, const std::string& mac, std::string_view notice) {
  const Session& s = *r.session;
  if (!api::RoleAllows(s.user.role, Permission::kRead)) return ErrorPage(r, 403, "Your role may not see devices.");
  auto admin = AdminFor(deps_, s);
  auto details = admin->ShowDevice(mac);
  if (!details) {
    const int status = api::StatusOf(details.error().code);
    return ErrorPage(r, status, status == 404 ? "No such device." : "The device is not available right now.");
  }
  const auto& d = details->device;
  Html h;
  if (!notice.empty()) h.Raw("<div class=\"notice\" id=\"notice\">").Raw(notice).Raw("</div>");
  h.Raw("<table id=\"device\"><tbody>");
  auto row = [&h](std::string_view k, std::string_view v, std::string_view id) {
    h.Raw("<tr><th>").Text(k).Raw("</th><td").Attr("id", id).Raw(">").Text(v).Raw("</td></tr>");
  };
  row("MAC", d.mac.WithColons(), "mac");
  row("Vendor / model", d.vendor + " " + d.model, "model");
  row("Tenant", details->tenant ? details->tenant->display_name + " (" + details->tenant->name + ")" : "stock",
      "tenant");
  row("State", core::DeviceStateName(d.state), "state");
  row("Window opens", When(d.window_opens), "window-opens");
  row("Window expires", When(d.window_expires), "window-expires");
  row("Lock", d.locked_reason.empty() ? "-" : d.locked_reason, "lock");
  row("Last seen", When(d.last_seen_at) + (d.last_seen_ip.empty() ? "" : " from " + d.last_seen_ip), "last-seen");
  row("User-Agent", d.last_user_agent, "user-agent");
  row("Firmware", d.firmware, "firmware");
  row("Serial", d.serial, "serial");
  row("Softphone", core::IsSoftphone(d) ? "yes" : "no", "softphone");
  row("Engineer window ends", When(d.engineer_window_ends), "engineer-window");
  h.Raw(
      "</tbody></table><h2>Lines</h2><table id=\"lines\"><thead><tr><th>#</th><th>Display name</th><th>User</th>"
      "<th>Registrar</th><th>Transport</th><th>Password stored</th></tr></thead><tbody>");
  for (size_t i = 0; i < details->lines.size(); ++i) {
    const auto& l = details->lines[i];
    h.Raw("<tr><td>").Text(std::to_string(l.index)).Raw("</td><td>").Text(l.display_name).Raw("</td><td>").Text(l.user);
    h.Raw("</td><td>")
        .Text(fmt::format("{}:{}", l.registrar, l.port))
        .Raw("</td><td>")
        .Text(core::TransportName(l.transport));
    h.Raw("</td><td>")
        .Text(i < details->has_password.size() && details->has_password[i] ? "yes" : "no")
        .Raw("</td></tr>");
  }
  h.Raw("</tbody></table><h2>Actions</h2><div class=\"actions\">");
  if (api::RoleAllows(s.user.role, Permission::kSupport)) {
    ActionForm(h, d.mac.str(), "reactivate", "Reactivate", s.csrf_token,
               "Reactivate this device? A new window opens and every old secret stops working.");
    if (!d.locked_reason.empty()) ActionForm(h, d.mac.str(), "unlock", "Unlock", s.csrf_token, "");
    ActionForm(h, d.mac.str(), "engineer-password", "Web admin password for an engineer", s.csrf_token, "");
  }
  if (core::IsSoftphone(d) && api::RoleAllows(s.user.role, Permission::kDeviceWrite)) {
    for (size_t i = 0; i < details->lines.size(); ++i) {
      if (i < details->has_password.size() && details->has_password[i]) {
        RevealForm(h, d.mac.str(), details->lines[i].index, s.csrf_token);
      }
    }
  }
  if (api::RoleAllows(s.user.role, Permission::kDeviceWrite)) {
    ActionForm(h, d.mac.str(), "repin", "Forget certificate pin", s.csrf_token, "");
    ActionForm(h, d.mac.str(), "credential-token", "Issue a new URL token", s.csrf_token, "");
    ActionForm(h, d.mac.str(), "credential-digest", "Issue a new digest password", s.csrf_token, "");
    ActionForm(h, d.mac.str(), "credential-token-revoke", "Revoke the URL token", s.csrf_token, "");
    ActionForm(h, d.mac.str(), "credential-digest-revoke", "Revoke the digest password", s.csrf_token, "");
    ActionForm(h, d.mac.str(), "retire", "Retire", s.csrf_token, "Retire this device? It will get nothing any more.");
  }
  h.Raw(
      "</div><h2>Timeline</h2><table id=\"timeline\"><thead><tr><th>Time</th><th>Kind</th><th>Decision</th>"
      "<th>What</th></tr></thead><tbody>");
  store::AuditQuery aq;
  aq.mac = d.mac.str();
  aq.tenant_id = ScopeId(s);
  aq.limit = kTimelineLimit;
  if (auto events = deps_.operator_store.QueryAudit(aq)) {
    for (const auto& e : *events) {
      h.Raw("<tr><td>").Text(When(e.time)).Raw("</td><td>").Text(e.kind).Raw("</td><td>").Text(e.decision);
      h.Raw("</td><td>").Text(e.reason).Raw("</td></tr>");
    }
  }
  h.Raw("</tbody></table>");
  return HtmlResponse(200, Page("Device " + d.mac.WithColons(), s.user.name, s.csrf_token, h.Take()));
}

ApiResponse Portal::DeviceAction(Request& r, const std::string& mac, const std::string& action) {
  const Session& s = *r.session;
  Permission needed = Permission::kDeviceWrite;
  if (action == "reactivate" || action == "unlock") {
    needed = Permission::kSupport;
  } else if (action != "repin" && action != "retire") {
    return ErrorPage(r, 404, "No such action.");
  }
  const auto scope = ScopeId(s);
  if (!api::RoleAllows(s.user.role, needed)) {
    Audit(r, s.user.actor(), "portal " + action + " refused: role", 403, "", scope, audit::Durability::kWindowed);
    return ErrorPage(r, 403, "Your role may not do this.");
  }
  if ((action == "reactivate" || action == "retire") && r.form["confirm"] != "yes") {
    return ErrorPage(r, 400, "Confirm the action first.");
  }
  auto admin = AdminFor(deps_, s);
  Html notice;
  Status done = Ok();
  if (action == "reactivate") {
    auto re = admin->ReactivateDevice(mac);
    if (re) {
      notice.Raw("Reactivated. New window until <b id=\"new-window\">")
          .Text(When(re->device.window_expires))
          .Raw("</b>; ")
          .Text(std::to_string(re->new_passwords))
          .Raw(" new SIP password(s). New URL token (shown once): <code id=\"url-token\">")
          .Text(re->url_token)
          .Raw("</code>");
    }
    done = re ? Ok() : Status(re.error());
  } else if (action == "retire") {
    auto re = admin->RetireDevice(mac);
    if (re) notice.Raw("Retired.");
    done = re ? Ok() : Status(re.error());
  } else if (action == "unlock") {
    done = admin->UnlockDevice(mac);
    if (done) notice.Raw("Unlocked.");
  } else {
    done = admin->RepinDevice(mac);
    if (done) notice.Raw("The certificate pin is forgotten; the next authenticated fetch records a new one.");
  }
  if (!done) {
    const int status = api::StatusOf(done.error().code);
    Audit(r, s.user.actor(), "portal " + action + " refused", status, status == 404 ? "" : mac, scope,
          audit::Durability::kWindowed);
    return ErrorPage(r, status, status == 404 ? "No such device." : done.error().message);
  }
  if (!Audit(r, s.user.actor(), "portal " + action, 200, mac, scope, audit::Durability::kDurable)) return NotAudited(r);
  return DevicePage(r, mac, notice.Take());
}

}  // namespace provgate::portal
