// The portal user's row as every UserStore backend reads it (the Row concept of
// store/rows.hpp): PG_USER_SELECT and its reader.
#pragma once

#include <vector>

#include "portal/user_store.hpp"

namespace provgate::portal {

#define PG_USER_SELECT                                                                               \
  "SELECT u.id, u.name, u.role, u.tenant_id, COALESCE(t.name, ''), u.password_hash, "                \
  "u.totp_secret_enc, u.totp_last_step, u.failed_codes, u.locked_until, u.created_by, u.created_at " \
  "FROM portal_users u LEFT JOIN tenants t ON t.id = u.tenant_id "

// A row of PG_USER_SELECT.
template <class Row>
UserRecord ReadUser(const Row& s) {
  UserRecord u;
  u.id = s.Int(0);
  u.name = s.Text(1);
  u.role = s.Text(2);
  u.tenant_id = s.OptionalInt(3);
  u.tenant_name = s.Text(4);
  u.password_hash = s.Text(5);
  u.totp_secret_enc = s.Blob(6).value_or(std::vector<unsigned char>{});
  u.totp_last_step = s.Int(7);
  u.failed_codes = static_cast<int>(s.Int(8));
  u.locked_until = s.Int(9);
  u.created_by = s.Text(10);
  u.created_at = s.Int(11);
  return u;
}

}  // namespace provgate::portal
