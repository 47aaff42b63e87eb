// Handlers of the audit query and the bans.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/context.hpp"
#include "api/json_body.hpp"
#include "api/views.hpp"
#include "service/queries.hpp"

namespace provgate::api {

ApiResponse Api::QueryAudit(Context& ctx) {
  service::AuditListRequest req;
  auto& q = ctx.query;
  req.device = q.Text("device", 64);
  req.tenant = q.Text("tenant", 64);
  req.actor = q.Text("actor", 128);
  req.decision = q.Text("decision", 16);
  req.since = q.Time("since");
  req.until = q.Time("until");
  req.cursor = q.Int("cursor", 1, INT64_MAX);
  req.limit = static_cast<int>(q.Int("limit", 1, service::kMaxPageSize).value_or(service::kDefaultPageSize));
  if (q.problem()) return ToResponse(*q.problem());
  service::Queries queries(deps_.store, deps_.operator_store, deps_.clock, ctx.principal->tenant);
  auto page = queries.Audit(req);
  if (!page) return Failed(page.error(), {"device", "tenant", "actor", "decision", "since", "cursor", "limit"});
  // The records as the audit file holds them (they never contain secrets), one per item.
  std::string body = "{\"items\":[";
  bool first = true;
  for (const auto& e : page->events) {
    if (!first) body += ',';
    first = false;
    body += fmt::format("{{\"id\":{},\"record\":{}}}", e.id, e.json);
  }
  body += "],\"next_cursor\":";
  body += page->next_cursor ? std::to_string(*page->next_cursor) : "null";
  body += "}";
  ApiResponse r;
  r.body = std::move(body);
  return r;
}

ApiResponse Api::ListBans(Context& ctx) {
  auto bans = ctx.admin->ListBans();
  if (!bans) return Failed(bans.error());
  auto items = nlohmann::json::array();
  for (const auto& b : *bans) items.push_back(BanJson(b));
  return JsonResponse(200, {{"items", items}});
}

ApiResponse Api::AddBan(Context& ctx) {
  auto body = ctx.request.body.empty() ? Result<nlohmann::json>(boost::system::in_place_value, nlohmann::json::object())
                                       : ParseJsonObject(ctx.request.body);
  if (!body) return Failed(body.error());
  BodyReader r(*body);
  r.Require("source");
  auto source = r.String("source", 64);
  auto minutes = r.Int("minutes", 1, 525600);
  auto reason = r.String("reason", 200);
  if (auto p = r.Finish()) return ToResponse(*p);
  auto ban = ctx.admin->AddBan(*source, static_cast<int>(minutes.value_or(60)), reason.value_or(""));
  if (!ban) {
    if (ban.error().code == ErrorCode::kInvalidArgument) return ToResponse(FieldProblem("source", ban.error().message));
    return Failed(ban.error());
  }
  ctx.after = BanJson(*ban);
  return JsonResponse(201, ctx.after);
}

ApiResponse Api::RemoveBan(Context& ctx) {
  auto st = ctx.admin->RemoveBan(ctx.param("source"));
  if (!st) {
    if (st.error().code == ErrorCode::kInvalidArgument) return ToResponse(FieldProblem("source", st.error().message));
    return Failed(st.error());
  }
  ctx.before = {{"source", ctx.param("source")}};
  ApiResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace provgate::api
