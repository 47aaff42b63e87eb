// The device plane's metrics in Prometheus text format 0.0.4, read from memory only: the
// defence counters, bans in force, the fleet and render caches, the audit committer.
#pragma once

#include <string>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "pipeline/defenses.hpp"
#include "pipeline/pipeline.hpp"
#include "store/cached_store.hpp"

namespace provgate::app {

void AppendServerMetrics(std::string& out, pipeline::Defenses& defenses, const store::FleetCache& fleet,
                         const pipeline::Pipeline& pipeline, const audit::AuditLog& audit, const Clock& clock);

// `text` as a Prometheus label value (backslash, double quote and newline escaped).
std::string LabelValue(std::string_view text);

}  // namespace provgate::app
