// The device plane's metrics in Prometheus text format 0.0.4, read from memory only (no
// store query): requests, refusals, latency and failed handshakes per listener, the defence
// counters, bans in force, the fleet and render caches, the audit committer, store errors.
// docs/metrics.md lists every family and its labels.
#pragma once

#include <string>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "pipeline/defenses.hpp"
#include "pipeline/device_metrics.hpp"
#include "pipeline/pipeline.hpp"
#include "store/cached_store.hpp"

namespace provgate::app {

struct ServerMetricsSources {
  const pipeline::DeviceMetrics& requests;
  pipeline::Defenses& defenses;
  const store::FleetCache& fleet;
  const pipeline::Pipeline& pipeline;
  const audit::AuditLog& audit;
  const Clock& clock;
};

void AppendServerMetrics(std::string& out, const ServerMetricsSources& from);

// `text` as a Prometheus label value (backslash, double quote and newline escaped).
std::string LabelValue(std::string_view text);

}  // namespace provgate::app
