// The fleet overview: pictures of the fleet drawn server-side (portal/chart.hpp), each with
// its table. Devices by state, devices provisioned per day and firmware versions by model
// come from the device list (service::Queries, confined to the user's tenant); refusals by
// reason per day from the audit records the REST API's audit view reads (the same tenant
// filter). Both reads are bounded (kOverviewDeviceLimit, kOverviewRefusalLimit) and the
// page says when a bound was reached.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "api/api.hpp"
#include "core/lifecycle.hpp"
#include "portal/chart.hpp"
#include "portal/html.hpp"
#include "portal/portal.hpp"
#include "portal/request.hpp"
#include "service/queries.hpp"

namespace provgate::portal {

using api::ApiResponse;
using api::Permission;

namespace {

constexpr int kDays = 30;
constexpr std::int64_t kDaySeconds = 86400;
constexpr int kOverviewDeviceLimit = 100'000;
constexpr int kOverviewRefusalLimit = 20'000;
constexpr size_t kMaxFirmwareBars = 30;
constexpr size_t kMaxRefusalReasons = kMaxChartSeries - 1;  // the rest are "other"

struct FleetCounts {
  std::map<core::DeviceState, std::int64_t> by_state;
  std::map<std::int64_t, std::int64_t> provisioned_by_day;  // day index (unix day) -> devices
  std::map<std::string, std::int64_t> by_model_firmware;
  bool truncated = false;
};

std::string Day(std::int64_t day) { return FormatRfc3339(FromUnix(day * kDaySeconds)).substr(0, 10); }

Result<FleetCounts> CountDevices(service::Queries& queries, std::int64_t now) {
  FleetCounts c;
  service::DeviceListRequest req;
  req.limit = service::kMaxPageSize;
  int seen = 0;
  do {
    PG_TRY(auto page, queries.Devices(req));
    for (const auto& row : page.devices) {
      const auto& d = row.device;
      ++c.by_state[d.state];
      if (d.state == core::DeviceState::kProvisioned && d.state_changed_at &&
          *d.state_changed_at > now - kDays * kDaySeconds) {
        ++c.provisioned_by_day[*d.state_changed_at / kDaySeconds];
      }
      if (d.state != core::DeviceState::kStock && d.state != core::DeviceState::kRetired) {
        ++c.by_model_firmware[d.vendor + " " + d.model + " / " + (d.firmware.empty() ? "unknown" : d.firmware)];
      }
    }
    seen += static_cast<int>(page.devices.size());
    req.cursor = page.next_cursor;
  } while (!req.cursor.empty() && seen < kOverviewDeviceLimit);
  c.truncated = !req.cursor.empty();
  return c;
}

Chart StateChart(const FleetCounts& c) {
  Chart chart{"chart-states", "Devices by state", {"devices"}, {}};
  for (auto st : {core::DeviceState::kStock, core::DeviceState::kAssigned, core::DeviceState::kProvisioned,
                  core::DeviceState::kExpired, core::DeviceState::kRetired}) {
    const auto it = c.by_state.find(st);
    chart.bars.push_back({std::string(core::DeviceStateName(st)), {it == c.by_state.end() ? 0 : it->second}});
  }
  return chart;
}

Chart ProvisionedChart(const FleetCounts& c, std::int64_t now) {
  Chart chart{"chart-provisioned", "Devices provisioned per day (last 30 days, UTC)", {"devices"}, {}};
  const std::int64_t today = now / kDaySeconds;
  for (std::int64_t day = today - kDays + 1; day <= today; ++day) {
    const auto it = c.provisioned_by_day.find(day);
    chart.bars.push_back({Day(day), {it == c.provisioned_by_day.end() ? 0 : it->second}});
  }
  return chart;
}

Chart FirmwareChart(const FleetCounts& c) {
  std::vector<std::pair<std::string, std::int64_t>> rows(c.by_model_firmware.begin(), c.by_model_firmware.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (rows.size() > kMaxFirmwareBars) rows.resize(kMaxFirmwareBars);
  Chart chart{"chart-firmware", "Firmware versions by model (devices in service)", {"devices"}, {}};
  for (auto& [label, n] : rows) chart.bars.push_back({label, {n}});
  return chart;
}

struct RefusalCounts {
  std::map<std::string, std::int64_t> by_reason;
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> by_day_reason;
  bool truncated = false;
};

Result<RefusalCounts> CountRefusals(service::Queries& queries, std::int64_t now) {
  service::AuditListRequest req;
  req.decision = "deny";
  req.since = (now / kDaySeconds - kDays + 1) * kDaySeconds;
  req.limit = kOverviewRefusalLimit;
  PG_TRY(auto reader, queries.AuditPages(req));
  RefusalCounts c;
  for (;;) {
    PG_TRY(auto batch, reader.Next());
    if (batch.empty()) break;
    for (const auto& e : batch) {
      if (e.kind != "request") continue;
      ++c.by_reason[e.reason];
      ++c.by_day_reason[{e.time / kDaySeconds, e.reason}];
    }
  }
  c.truncated = reader.next_cursor().has_value();
  return c;
}

Chart RefusalChart(const RefusalCounts& c, std::int64_t now) {
  std::vector<std::pair<std::string, std::int64_t>> reasons(c.by_reason.begin(), c.by_reason.end());
  std::stable_sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  Chart chart{"chart-refusals", "Refused device requests per day by reason (last 30 days, UTC)", {}, {}};
  std::map<std::string, size_t> series;
  for (const auto& [reason, n] : reasons) {
    if (series.size() == kMaxRefusalReasons) break;
    series[reason] = chart.series.size();
    chart.series.push_back(reason);
  }
  const bool other = reasons.size() > kMaxRefusalReasons;
  if (other) chart.series.emplace_back("other");
  if (chart.series.empty()) chart.series.emplace_back("refusals");
  const std::int64_t today = now / kDaySeconds;
  for (std::int64_t day = today - kDays + 1; day <= today; ++day) {
    ChartBar bar{Day(day), std::vector<std::int64_t>(chart.series.size(), 0)};
    for (auto it = c.by_day_reason.lower_bound({day, ""}); it != c.by_day_reason.end() && it->first.first == day;
         ++it) {
      const auto s = series.find(it->first.second);
      bar.values[s != series.end() ? s->second : chart.series.size() - 1] += it->second;
    }
    chart.bars.push_back(std::move(bar));
  }
  return chart;
}

void Figure(Html& h, const Chart& chart) {
  h.Raw("<figure class=\"chart\">").Raw(BarChartSvg(chart));
  h.Raw("<details><summary>The numbers as a table</summary>").Raw(ChartTable(chart)).Raw("</details></figure>");
}

}  // namespace

ApiResponse Portal::Overview(Request& r) {
  const Session& s = *r.session;
  const bool devices = api::RoleAllows(s.user.role, Permission::kRead);
  const bool audit = api::RoleAllows(s.user.role, Permission::kAuditRead);
  const std::int64_t now = ToUnix(deps_.clock.Now());
  service::Queries queries(deps_.store, deps_.operator_store, deps_.clock, s.user.tenant);
  Html h;
  if (devices) {
    auto counts = CountDevices(queries, now);
    if (!counts) return ErrorPage(r, 500, "The overview is not available right now.");
    h.Raw("<h2>Devices by state</h2>");
    Figure(h, StateChart(*counts));
    h.Raw("<h2>Provisioned per day</h2><p>Devices that are provisioned now, by the day they became so.</p>");
    Figure(h, ProvisionedChart(*counts, now));
    h.Raw(
        "<h2>Firmware versions by model</h2><p>The firmware each device reported at its last fetch "
        "(\"unknown\": none reported yet).</p>");
    Figure(h, FirmwareChart(*counts));
    if (counts->truncated) {
      h.Raw("<p class=\"notice\">").Text(fmt::format("Counted the first {} devices only.", kOverviewDeviceLimit));
      h.Raw("</p>");
    }
  }
  if (audit) {
    auto refusals = CountRefusals(queries, now);
    if (!refusals) return ErrorPage(r, 500, "The overview is not available right now.");
    h.Raw("<h2>Refusals by reason</h2>");
    Figure(h, RefusalChart(*refusals, now));
    if (refusals->truncated) {
      h.Raw("<p class=\"notice\">")
          .Text(fmt::format("Counted the latest {} refusals only.", kOverviewRefusalLimit))
          .Raw("</p>");
    }
  }
  return HtmlResponse(200, Page("Fleet overview", s.user.name, s.csrf_token, h.Take()));
}

}  // namespace provgate::portal
