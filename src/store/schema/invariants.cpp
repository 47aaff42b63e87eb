#include "store/schema/invariants.hpp"

#include <array>

namespace provgate::store::schema {
namespace {

// The LIMIT is kInvariantSampleRows.
constexpr std::array kInvariants = {
    Invariant{"line-delivered-and-pending",
              "a device waiting for the first fetch of its window has no line whose password counts as delivered "
              "before that window opened (re-activation replaces every line with an undelivered one)",
              "SELECT 'device ' || d.mac || ' line ' || CAST(l.idx AS TEXT) FROM lines l "
              "JOIN devices d ON d.id = l.device_id WHERE d.state = 'assigned' AND l.delivered_at IS NOT NULL "
              "AND d.window_opens IS NOT NULL AND l.delivered_at < d.window_opens ORDER BY d.mac, l.idx LIMIT 20"},
    Invariant{"locked-without-lifecycle-record",
              "every locked device has the audit record of its lock (a lifecycle record 'locked'); the store's copy "
              "of the audit file trails a running server by up to audit.store_copy_delay_ms",
              "SELECT 'device ' || d.mac || ' locked: ' || d.locked_reason FROM devices d "
              "WHERE d.locked_reason <> '' AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.mac = d.mac "
              "AND a.kind = 'lifecycle' AND a.reason = 'locked') ORDER BY d.mac LIMIT 20"},
    Invariant{"assigned-device-without-tenant", "a device that is assigned, provisioned or expired belongs to a tenant",
              "SELECT 'device ' || mac || ' (' || state || ')' FROM devices WHERE tenant_id IS NULL "
              "AND state IN ('assigned', 'provisioned', 'expired') ORDER BY mac LIMIT 20"},
    Invariant{"stock-device-with-tenant", "a device in stock belongs to no tenant",
              "SELECT 'device ' || mac FROM devices WHERE state = 'stock' AND tenant_id IS NOT NULL "
              "ORDER BY mac LIMIT 20"},
    Invariant{"assigned-device-without-window",
              "an assigned device has a provisioning window that opens before it expires",
              "SELECT 'device ' || mac FROM devices WHERE state = 'assigned' AND (window_opens IS NULL "
              "OR window_expires IS NULL OR window_expires < window_opens) ORDER BY mac LIMIT 20"},
    Invariant{"device-of-missing-tenant", "every device's tenant exists",
              "SELECT 'device ' || d.mac || ' tenant ' || CAST(d.tenant_id AS TEXT) FROM devices d "
              "WHERE d.tenant_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = d.tenant_id) "
              "ORDER BY d.mac LIMIT 20"},
    Invariant{"line-of-missing-device", "every line's device exists",
              "SELECT 'device id ' || CAST(l.device_id AS TEXT) || ' line ' || CAST(l.idx AS TEXT) FROM lines l "
              "WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = l.device_id) "
              "ORDER BY l.device_id, l.idx LIMIT 20"},
};

}  // namespace

std::span<const Invariant> Invariants() { return kInvariants; }

Result<std::vector<InvariantViolation>> CheckInvariants(const TextQuery& query) {
  std::vector<InvariantViolation> broken;
  for (const Invariant& invariant : kInvariants) {
    PG_TRY(auto rows, query(invariant.sql));
    if (!rows.empty()) broken.push_back({invariant.name, invariant.rule, std::move(rows)});
  }
  return broken;
}

}  // namespace provgate::store::schema
