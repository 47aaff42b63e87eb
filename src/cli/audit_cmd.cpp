// provgate audit list: the audit query of the admin API (GET /api/v1/audit) on the CLI.
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "service/queries.hpp"

namespace provgate::cli {
namespace {

// Unix seconds or RFC 3339 UTC, as the API takes them.
std::optional<std::int64_t> ParseWhen(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string::npos) return std::stoll(text);
  std::string t = text;
  if (t.size() == 20 && t.back() == 'Z') t = t.substr(0, 19) + ".000Z";
  if (auto tp = ParseRfc3339(t)) return ToUnix(*tp);
  return std::nullopt;
}

}  // namespace

void AddAuditCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* audit = root.add_subcommand("audit", "Query the audit trail");
  audit->require_subcommand(1);
  static service::AuditListRequest req;
  static std::string since, until;
  static std::int64_t cursor = 0;
  auto* list = audit->add_subcommand("list", "Audit records, newest first, one JSON record per line");
  list->add_option("--device", req.device, "Only this device (MAC)");
  list->add_option("--tenant", req.tenant, "Only records of this tenant's devices and about the tenant");
  list->add_option("--actor", req.actor, "Only this actor, e.g. api:abcd2345 or cli:alice");
  list->add_option("--decision", req.decision, "allow, deny or info");
  list->add_option("--since", since, "From this time (unix seconds or RFC 3339 UTC)");
  list->add_option("--until", until, "Before this time");
  list->add_option("--cursor", cursor, "Continue after the record id printed as the next cursor");
  list->add_option("--limit", req.limit, "At most this many records (1-100000)")->capture_default_str();
  list->callback([&g, &h] {
    h = [&g] {
      req.since = ParseWhen(since);
      req.until = ParseWhen(until);
      if ((!since.empty() && !req.since) || (!until.empty() && !req.until)) {
        return Fail(Error::InvalidArgument("--since/--until: unix seconds or RFC 3339 UTC, e.g. 2025-01-31T12:00:00Z"));
      }
      if (cursor > 0) req.cursor = cursor;
      auto a = OpenApp(g);
      if (!a) return 1;
      service::Queries queries(a->store(), a->operator_store(), a->clock(), std::nullopt);
      auto page = queries.AuditPages(req);
      if (!page) return Fail(page.error());
      for (;;) {
        auto batch = page->Next();
        if (!batch) return Fail(batch.error());
        if (batch->empty()) break;
        for (const auto& e : *batch) fmt::print("{}\n", e.json);
      }
      if (page->next_cursor()) fmt::print(stderr, "more: --cursor {}\n", *page->next_cursor());
      return 0;
    };
  });
}

}  // namespace provgate::cli
