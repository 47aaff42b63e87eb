// The operator pages beside the devices: bans of scanning sources (list, lift, add) through
// service::Admin, and the audit search through service::Queries, the services behind the
// REST API's /bans and /audit. Bans are the platform's (a tenant user is refused, as the
// service refuses a tenant-scoped caller); the audit search of a tenant user reads only its
// tenant's records (the store's SQL predicate).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "api/api.hpp"
#include "api/problem.hpp"
#include "portal/html.hpp"
#include "portal/portal.hpp"
#include "portal/qr.hpp"
#include "portal/request.hpp"
#include "service/queries.hpp"

namespace provgate::portal {

using api::ApiResponse;
using api::Permission;

namespace {

constexpr int kAuditPageRows = 100;
// How many records one audit page reads at most to find kAuditPageRows of the asked kind.
constexpr int kAuditScanLimit = 5000;
constexpr int kMaxBanMinutes = 525'600;  // a year

bool Platform(const Session& s) { return !s.user.tenant.has_value(); }

void BanTable(Html& h, const std::vector<defense::Ban>& bans, const Session& s) {
  const bool lift = api::RoleAllows(s.user.role, Permission::kSupport);
  h.Raw(
      "<table id=\"bans\"><thead><tr><th>Source</th><th>Reason</th><th>Since</th><th>Until</th><th>Offences</th>"
      "<th></th></tr></thead><tbody>");
  for (const auto& b : bans) {
    h.Raw("<tr><td>").Text(b.source).Raw("</td><td>").Text(b.reason).Raw("</td><td>").Text(When(b.created));
    h.Raw("</td><td>").Text(When(b.expires)).Raw("</td><td>").Text(std::to_string(b.offence_count)).Raw("</td><td>");
    if (lift) {
      h.Raw("<form method=\"post\" action=\"/portal/bans/lift\">")
          .Csrf(s.csrf_token)
          .Raw("<input type=\"hidden\" name=\"source\"")
          .Attr("value", b.source)
          .Raw("><button type=\"submit\"")
          .Attr("id", "lift-" + b.source)
          .Raw(">Lift</button></form>");
    }
    h.Raw("</td></tr>");
  }
  h.Raw("</tbody></table>");
  if (bans.empty()) h.Raw("<p id=\"no-bans\">No source is banned.</p>");
}

void AddBanForm(Html& h, const Session& s) {
  h.Raw("<h2>Ban a source</h2><form method=\"post\" action=\"/portal/bans/add\" class=\"filters\">")
      .Csrf(s.csrf_token)
      .Raw(
          "<label>Address or CIDR <input name=\"source\" id=\"ban-source\" required></label> "
          "<label>Minutes <input name=\"minutes\" id=\"ban-minutes\" inputmode=\"numeric\" value=\"60\" required>"
          "</label> <label>Reason <input name=\"reason\" id=\"ban-reason\" maxlength=\"200\"></label> "
          "<button type=\"submit\" id=\"ban-add\">Ban</button></form>");
}

// The query's non-empty parameters, a bare date (YYYY-MM-DD) in since/until read as its
// midnight UTC, ready for api::QueryReader.
std::vector<std::pair<std::string, std::string>> AuditParams(const api::Target& t) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : t.query) {
    if (v.empty()) continue;
    out.emplace_back(k, (k == "since" || k == "until") && v.size() == 10 ? v + "T00:00:00Z" : v);
  }
  return out;
}

std::string Param(const api::Target& t, std::string_view name) {
  const auto* v = QueryValue(t, name);
  return v != nullptr ? *v : "";
}

void AuditFilters(Html& h, const api::Target& t, const Session& s) {
  auto field = [&](std::string_view name, std::string_view label, std::string_view hint) {
    h.Raw("<label>").Text(label).Raw(" <input").Attr("name", name).Attr("id", "audit-" + std::string(name));
    h.Attr("value", Param(t, name)).Attr("placeholder", hint).Raw("></label> ");
  };
  h.Raw("<form method=\"get\" action=\"/portal/audit\" class=\"filters\">");
  field("device", "MAC", "0015650a0b0c");
  if (Platform(s)) field("tenant", "Tenant", "name");
  h.Raw("<label>Kind <select name=\"kind\" id=\"audit-kind\"><option value=\"\">any</option>");
  for (std::string_view k : {"request", "admin"}) {
    h.Raw("<option").Attr("value", k).Raw(Param(t, "kind") == k ? " selected>" : ">").Text(k).Raw("</option>");
  }
  h.Raw("</select></label> <label>Decision <select name=\"decision\" id=\"audit-decision\">");
  h.Raw("<option value=\"\">any</option>");
  for (std::string_view d : {"allow", "deny", "info"}) {
    h.Raw("<option").Attr("value", d).Raw(Param(t, "decision") == d ? " selected>" : ">").Text(d).Raw("</option>");
  }
  h.Raw("</select></label> ");
  field("since", "From", "2026-12-01 or 2026-12-01T08:00:00Z");
  field("until", "Before", "2026-12-02");
  h.Raw("<button type=\"submit\" id=\"audit-filter\">Search</button></form>");
}

void AuditRow(Html& h, const store::StoredAuditEvent& e) {
  const auto record = nlohmann::json::parse(e.json, nullptr, false);
  auto text = [&record](const char* key) {
    return record.is_object() && record.contains(key) && record[key].is_string() ? record[key].get<std::string>()
                                                                                 : std::string();
  };
  h.Raw("<tr><td>").Text(When(e.time)).Raw("</td><td>").Text(e.kind).Raw("</td><td>").Text(e.decision);
  h.Raw("</td><td>");
  if (!e.mac.empty()) h.Raw("<a").Attr("href", "/portal/devices/" + e.mac).Raw(">").Text(e.mac).Raw("</a>");
  h.Raw("</td><td>").Text(text("actor")).Raw("</td><td>").Text(text("peer")).Raw("</td><td>").Text(e.reason);
  h.Raw("</td></tr>");
}

// The rows of one page from `reader`, those of `kind` only when it is set: up to
// kAuditPageRows. Returns the id the next page starts below, 0 when this is the last page.
Result<std::int64_t> AuditTable(Html& h, service::AuditPageReader& reader, const std::string& kind) {
  h.Raw(
      "<table id=\"audit\"><thead><tr><th>Time</th><th>Kind</th><th>Decision</th><th>Device</th><th>Actor</th>"
      "<th>Peer</th><th>What</th></tr></thead><tbody>");
  int shown = 0;
  std::int64_t next = 0;  // ids start at 1
  for (bool more = true; more;) {
    PG_TRY(auto batch, reader.Next());
    more = !batch.empty();
    for (const auto& e : batch) {
      if (shown == kAuditPageRows) {
        more = false;
        break;
      }
      next = e.id;
      if (!kind.empty() && e.kind != kind) continue;
      AuditRow(h, e);
      ++shown;
    }
  }
  h.Raw("</tbody></table>");
  if (shown == 0) h.Raw("<p id=\"no-records\">No record matches.</p>");
  // A full page, or a scan that stopped at its limit, continues below the last record read.
  return shown < kAuditPageRows && !reader.next_cursor() ? 0 : next;
}

// The link to the next page: the same filters, the cursor `next`.
void OlderLink(Html& h, const api::Target& t, std::int64_t next) {
  std::string href = "/portal/audit?";
  for (const auto& [k, v] : t.query) {
    if (k == "cursor" || v.empty()) continue;
    href += k + "=";
    AppendPercentEncoded(href, v);
    href += "&";
  }
  href += "cursor=" + std::to_string(next);
  h.Raw("<p><a").Attr("href", href).Attr("id", "audit-next").Raw(">Older records</a></p>");
}

}  // namespace

ApiResponse Portal::BansPage(Request& r, std::string_view notice) {
  const Session& s = *r.session;
  if (!Platform(s) || !api::RoleAllows(s.user.role, Permission::kRead)) {
    return ErrorPage(r, 403, "Bans are kept by the platform's operators.");
  }
  auto bans = AdminFor(deps_, s)->ListBans();
  if (!bans) return ErrorPage(r, api::StatusOf(bans.error().code), "The bans are not available right now.");
  std::sort(bans->begin(), bans->end(), [](const auto& a, const auto& b) { return a.expires > b.expires; });
  Html h;
  if (!notice.empty()) h.Raw("<div class=\"notice\" id=\"notice\">").Text(notice).Raw("</div>");
  BanTable(h, *bans, s);
  if (api::RoleAllows(s.user.role, Permission::kPlatform)) AddBanForm(h, s);
  return HtmlResponse(200, Page("Bans", s.user.name, s.csrf_token, h.Take()));
}

ApiResponse Portal::BanAction(Request& r, const std::string& action) {
  const Session& s = *r.session;
  if (action != "lift" && action != "add") return ErrorPage(r, 404, "No such page.");
  const std::string what = action == "lift" ? "portal ban lifted" : "portal ban added";
  const Permission needed = action == "lift" ? Permission::kSupport : Permission::kPlatform;
  if (!Platform(s) || !api::RoleAllows(s.user.role, needed)) {
    Audit(r, s.user.actor(), what + " refused: role", 403, "", ScopeId(s), audit::Durability::kWindowed);
    return ErrorPage(r, 403, "Your role may not do this.");
  }
  const std::string source = r.form["source"];
  auto admin = AdminFor(deps_, s);
  Status done = Ok();
  if (action == "lift") {
    done = admin->RemoveBan(source);
  } else {
    const auto minutes = WholeNumber(r.form["minutes"], 1, kMaxBanMinutes);
    if (!minutes) return ErrorPage(r, 400, fmt::format("Minutes: a whole number from 1 to {}.", kMaxBanMinutes));
    if (r.form["reason"].size() > 200) return ErrorPage(r, 400, "The reason is longer than 200 characters.");
    auto ban = admin->AddBan(source, static_cast<int>(*minutes), r.form["reason"]);
    done = ban ? Ok() : Status(ban.error());
  }
  if (!done) {
    const int status = api::StatusOf(done.error().code);
    Audit(r, s.user.actor(), what + " refused", status, "", std::nullopt, audit::Durability::kWindowed);
    return ErrorPage(r, status, status == 404 ? "No such ban." : done.error().message);
  }
  if (!Audit(r, s.user.actor(), what + ": " + source.substr(0, 64), 200, "", std::nullopt, audit::Durability::kDurable))
    return NotAudited(r);
  return BansPage(r, action == "lift" ? "The ban is lifted." : "The source is banned.");
}

ApiResponse Portal::AuditSearch(Request& r) {
  const Session& s = *r.session;
  if (!api::RoleAllows(s.user.role, Permission::kAuditRead)) {
    return ErrorPage(r, 403, "Your role may not read the audit records.");
  }
  const auto params = AuditParams(r.target);
  api::QueryReader q(params);
  service::AuditListRequest req;
  req.device = q.Text("device", 64);
  req.tenant = q.Text("tenant", 64);
  const std::string kind = q.Text("kind", 16);
  req.decision = q.Text("decision", 16);
  req.since = q.Time("since");
  req.until = q.Time("until");
  req.cursor = q.Int("cursor", 1, INT64_MAX);
  req.limit = kAuditScanLimit;
  if (q.problem()) {
    const auto& p = *q.problem();
    return ErrorPage(r, 400, p.errors.empty() ? p.detail : p.errors.front().field + ": " + p.errors.front().detail);
  }
  if (!kind.empty() && kind != "request" && kind != "admin") return ErrorPage(r, 400, "kind: request or admin.");
  service::Queries queries(deps_.store, deps_.operator_store, deps_.clock, s.user.tenant);
  auto reader = queries.AuditPages(req);
  if (!reader) {
    const int status = api::StatusOf(reader.error().code);
    return ErrorPage(r, status, status == 404 ? "No such tenant." : reader.error().message);
  }
  Html h;
  AuditFilters(h, r.target, s);
  auto next = AuditTable(h, *reader, kind);
  if (!next) return ErrorPage(r, 500, "The audit records are not available right now.");
  if (*next != 0) OlderLink(h, r.target, *next);
  return HtmlResponse(200, Page("Audit records", s.user.name, s.csrf_token, h.Take()));
}

}  // namespace provgate::portal
