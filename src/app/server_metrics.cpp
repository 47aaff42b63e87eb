#include "app/server_metrics.hpp"

#include <fmt/format.h>

#include "metrics/histogram.hpp"
#include "store/postgres/connection.hpp"

namespace provgate::app {
namespace {

using metrics::AppendFamilyHeader;

void AppendRequests(std::string& out, const pipeline::DeviceMetrics& m) {
  AppendFamilyHeader(out, "provgate_device_requests_total", "counter",
                     "Device requests decided by the pipeline, by listener, decision and the identified "
                     "device's vendor (none when no device was identified).");
  for (const auto& l : m.listeners()) {
    const std::string listener = LabelValue(l->name());
    for (size_t v = 0; v < m.vendors().size(); ++v) {
      for (size_t d = 0; d < pipeline::kDecisionNames.size(); ++d) {
        out += fmt::format("provgate_device_requests_total{{listener=\"{}\",decision=\"{}\",vendor=\"{}\"}} {}\n",
                           listener, pipeline::kDecisionNames[d], LabelValue(m.vendors()[v]),
                           l->requests(v, static_cast<pipeline::Decision>(d)));
      }
    }
  }
  AppendFamilyHeader(out, "provgate_device_refusals_total", "counter",
                     "Device requests refused, by listener and reason (the audit reason before ':', "
                     "from a fixed set).");
  for (const auto& l : m.listeners()) {
    const std::string listener = LabelValue(l->name());
    for (size_t r = 0; r < pipeline::kRefusalNames.size(); ++r) {
      out += fmt::format("provgate_device_refusals_total{{listener=\"{}\",reason=\"{}\"}} {}\n", listener,
                         pipeline::kRefusalNames[r], l->refusals(static_cast<pipeline::Refusal>(r)));
    }
  }
  AppendFamilyHeader(out, "provgate_device_request_duration_seconds", "histogram",
                     "Device request latency per listener, from the request read to its response queued "
                     "(decision and audit commit).");
  for (const auto& l : m.listeners()) {
    metrics::AppendHistogram(out, "provgate_device_request_duration_seconds",
                             fmt::format("listener=\"{}\"", LabelValue(l->name())), l->duration());
  }
  AppendFamilyHeader(out, "provgate_tls_handshake_failures_total", "counter",
                     "Failed TLS handshakes of device listeners, by listener and reason.");
  for (const auto& l : m.listeners()) {
    const std::string listener = LabelValue(l->name());
    for (size_t k = 0; k < tls::kHandshakeFailureKinds; ++k) {
      const auto kind = static_cast<tls::HandshakeFailure>(k);
      out += fmt::format("provgate_tls_handshake_failures_total{{listener=\"{}\",reason=\"{}\"}} {}\n", listener,
                         tls::HandshakeFailureName(kind), l->handshake_failures(kind));
    }
  }
}

void AppendDefenses(std::string& out, pipeline::Defenses& defenses, const Clock& clock) {
  // The refusals.<reason> counters are exported from DeviceMetrics, per listener.
  const std::string_view refusal = defense::counter_names::kRefusalPrefix;
  AppendFamilyHeader(out, "provgate_defense_events_total", "counter",
                     "Defence events of the device plane (bans, rate limits, shedding, scan signals, locks, "
                     "identity misuse).");
  for (const auto& [name, value] : defenses.counters().Snapshot()) {
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
}

void AppendCaches(std::string& out, const store::FleetCache& fleet, const pipeline::Pipeline& pipeline) {
  out += fmt::format(
      "# HELP provgate_store_transactions_total Transactions this process ended on PostgreSQL (statements "
      "outside a transaction block, commits, rollbacks), all its connections; 0 on SQLite.\n"
      "# TYPE provgate_store_transactions_total counter\nprovgate_store_transactions_total {}\n",
      store::postgres::TransactionsEnded());
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
}

void AppendAudit(std::string& out, const audit::AuditLog& audit, const pipeline::Pipeline& pipeline) {
  out += fmt::format(
      "# HELP provgate_audit_batches_total Audit batches committed (one write and fsync each).\n"
      "# TYPE provgate_audit_batches_total counter\nprovgate_audit_batches_total {}\n",
      audit.batches());
  AppendFamilyHeader(out, "provgate_audit_commit_seconds", "histogram", "Write and fdatasync of each audit batch.");
  metrics::AppendHistogram(out, "provgate_audit_commit_seconds", "", audit.commit_seconds());
  out += fmt::format(
      "# HELP provgate_audit_queue_depth Audit records submitted and not yet committed.\n"
      "# TYPE provgate_audit_queue_depth gauge\nprovgate_audit_queue_depth {}\n",
      audit.queue_depth());
  out += fmt::format(
      "# HELP provgate_audit_windowed_failures_total Audit batches whose write or fdatasync failed "
      "after their responses had left (secret-free files and refusals, audit.durability).\n"
      "# TYPE provgate_audit_windowed_failures_total counter\nprovgate_audit_windowed_failures_total {}\n",
      audit.windowed_failures());
  out += fmt::format(
      "# HELP provgate_store_errors_total Store failures: device requests answered 500 "
      "(device_request) and failed copies of the audit trail into the store (audit_copy).\n"
      "# TYPE provgate_store_errors_total counter\n"
      "provgate_store_errors_total{{operation=\"device_request\"}} {}\n"
      "provgate_store_errors_total{{operation=\"audit_copy\"}} {}\n",
      pipeline.internal_errors(), audit.store_copy_failures());
  out += fmt::format(
      "# HELP provgate_give_backs_waiting Passwords or key copies claimed for responses that never "
      "left, waiting for the store to make them deliverable again (pipeline::GiveBacks).\n"
      "# TYPE provgate_give_backs_waiting gauge\nprovgate_give_backs_waiting {}\n",
      pipeline.pending_give_backs());
}

}  // namespace

std::string LabelValue(std::string_view text) { return metrics::EscapeLabelValue(text); }

void AppendServerMetrics(std::string& out, const ServerMetricsSources& from) {
  AppendRequests(out, from.requests);
  AppendDefenses(out, from.defenses, from.clock);
  AppendCaches(out, from.fleet, from.pipeline);
  AppendAudit(out, from.audit, from.pipeline);
}

}  // namespace provgate::app
