#include "app/server_metrics.hpp"

#include <fmt/format.h>

namespace provgate::app {

std::string LabelValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

void AppendServerMetrics(std::string& out, pipeline::Defenses& defenses, const store::FleetCache& fleet,
                         const pipeline::Pipeline& pipeline, const audit::AuditLog& audit, const Clock& clock) {
  const auto counters = defenses.counters().Snapshot();
  const std::string_view refusal = defense::counter_names::kRefusalPrefix;
  out += "# HELP provgate_device_refusals_total Device requests refused, by reason.\n"
         "# TYPE provgate_device_refusals_total counter\n";
  for (const auto& [name, value] : counters) {
    if (name.starts_with(refusal)) {
      out += fmt::format("provgate_device_refusals_total{{reason=\"{}\"}} {}\n",
                         LabelValue(std::string_view(name).substr(refusal.size())), value);
    }
  }
  out += "# HELP provgate_defense_events_total Defence events of the device plane (bans, rate limits, "
         "shedding, scan signals, locks, identity misuse).\n"
         "# TYPE provgate_defense_events_total counter\n";
  for (const auto& [name, value] : counters) {
    if (!name.starts_with(refusal)) {
      out += fmt::format("provgate_defense_events_total{{event=\"{}\"}} {}\n", LabelValue(name), value);
    }
  }
  out += fmt::format(
      "# HELP provgate_bans_active Source bans in force.\n# TYPE provgate_bans_active gauge\n"
      "provgate_bans_active {}\n",
      defenses.bans().List(clock.Now()).size());
  out += fmt::format(
      "# HELP provgate_device_requests_in_flight Device requests being served.\n"
      "# TYPE provgate_device_requests_in_flight gauge\nprovgate_device_requests_in_flight {}\n",
      defenses.gate().in_flight());
  const auto f = fleet.stats();
  out += fmt::format(
      "# HELP provgate_fleet_cache_lookups_total Fleet cache reads by result.\n"
      "# TYPE provgate_fleet_cache_lookups_total counter\n"
      "provgate_fleet_cache_lookups_total{{result=\"hit\"}} {}\n"
      "provgate_fleet_cache_lookups_total{{result=\"miss\"}} {}\n",
      f.hits, f.misses);
  const auto r = pipeline.render_cache_stats();
  out += fmt::format(
      "# HELP provgate_render_cache_lookups_total Rendered-file cache reads by result.\n"
      "# TYPE provgate_render_cache_lookups_total counter\n"
      "provgate_render_cache_lookups_total{{result=\"hit\"}} {}\n"
      "provgate_render_cache_lookups_total{{result=\"miss\"}} {}\n",
      r.hits, r.misses);
  out += fmt::format(
      "# HELP provgate_audit_batches_total Audit batches committed (one write and fsync each).\n"
      "# TYPE provgate_audit_batches_total counter\nprovgate_audit_batches_total {}\n",
      audit.batches());
}

}  // namespace provgate::app
