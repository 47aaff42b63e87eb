// The audit table's row as both SQLite stores read it: the columns of PG_AUDIT_ROW_COLUMNS,
// in that order.
#pragma once

#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

#define PG_AUDIT_ROW_COLUMNS "id, time, kind, mac, decision, reason, json, tenant_id"

namespace provgate::store::sqlite {

inline StoredAuditEvent ReadAuditRow(const Statement& s) {
  StoredAuditEvent e;
  e.id = s.Int(0);
  e.time = s.Int(1);
  e.kind = s.Text(2);
  e.mac = s.Text(3);
  e.decision = s.Text(4);
  e.reason = s.Text(5);
  e.json = s.Text(6);
  e.tenant_id = s.OptionalInt(7);
  return e;
}

}  // namespace provgate::store::sqlite
