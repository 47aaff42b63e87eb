// Handlers of the audit query and the bans.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "api/context.hpp"
#include "api/json_body.hpp"
#include "api/views.hpp"
#include "service/queries.hpp"

namespace provgate::api {

namespace {

// The AuditPage document ({"items": [{"id", "record"}...], "next_cursor"}) written a batch
// of records at a time, as the page reader reads them: the records as the audit file holds
// them (they never contain secrets).
class AuditPageBody {
 public:
  AuditPageBody(service::AuditPageReader reader, std::vector<store::StoredAuditEvent> first)
      : reader_(std::move(reader)), batch_(std::move(first)) {}

  Result<std::string> operator()() {
    if (ended_) return std::string();
    std::string out = started_ ? "" : "{\"items\":[";
    started_ = true;
    if (batch_.empty()) {
      ended_ = true;
      out += "],\"next_cursor\":";
      out += reader_.next_cursor() ? std::to_string(*reader_.next_cursor()) : "null";
      out += "}";
      return out;
    }
    for (const auto& e : batch_) {
      if (any_) out += ',';
      any_ = true;
      out += fmt::format("{{\"id\":{},\"record\":{}}}", e.id, e.json);
    }
    PG_TRY(batch_, reader_.Next());
    return out;
  }

 private:
  service::AuditPageReader reader_;
  std::vector<store::StoredAuditEvent> batch_;  // read, not yet written
  bool started_ = false;
  bool any_ = false;
  bool ended_ = false;
};

}  // namespace

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
  req.limit = static_cast<int>(q.Int("limit", 1, service::kMaxAuditPageSize).value_or(service::kDefaultPageSize));
  if (q.problem()) return ToResponse(*q.problem());
  service::Queries queries(deps_.store, deps_.operator_store, deps_.clock, ctx.principal->tenant);
  auto reader = queries.AuditPages(req);
  if (!reader) return Failed(reader.error(), {"device", "tenant", "actor", "decision", "since", "cursor", "limit"});
  // The first batch now, so that a store failure is still a problem answer, not a cut body.
  auto first = reader->Next();
  if (!first) return Failed(first.error());
  // std::function copies its target: the body's state is shared, not copied.
  auto body = std::make_shared<AuditPageBody>(std::move(*reader), std::move(*first));
  ApiResponse r;
  r.stream = [body] { return (*body)(); };
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
