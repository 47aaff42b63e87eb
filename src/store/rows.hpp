// The store's rows as every backend reads and writes them: the column lists, the readers
// that turn a row into a tenant, device, line or audit record (checking what the database
// holds: a corrupt value is kInternal naming its row, never a silent default), and the
// binders of the columns a write sets. Secrets are sealed and opened here with the master
// key, so ciphertext never leaves a backend.
//
// A backend supplies its own row and parameter types, read and bound by column/parameter
// number: a Row has Int(c), OptionalInt(c), Text(c) (NULL reads as "") and Blob(c)
// (nullopt for NULL), columns from 0; Params has BindInt(i, int64 or optional), BindText(i,
// text) and BindBlob(i, optional bytes), parameters from 1, each returning Params&.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "core/model.hpp"
#include "crypto/secret_box.hpp"
#include "net/ip_address.hpp"
#include "store/audit_sink.hpp"
#include "store/operator_store.hpp"

#define PG_AUDIT_ROW_COLUMNS "id, time, kind, mac, decision, reason, json, tenant_id"
// A device without its secrets; the last three columns are 0/1 flags in both engines.
#define PG_DEVICE_SUMMARY_COLUMNS                                                                \
  "id, mac, vendor, model, tenant_id, state, window_opens, window_expires, serial, created_at, " \
  "updated_at, state_changed_at, pin_spki, locked_reason, last_seen_at, last_seen_ip, "          \
  "last_user_agent, firmware, CASE WHEN token_hash <> '' THEN 1 ELSE 0 END, "                    \
  "CASE WHEN digest_password_enc IS NOT NULL THEN 1 ELSE 0 END, "                                \
  "CASE WHEN config_key_enc IS NOT NULL THEN 1 ELSE 0 END"

namespace provgate::store::rows {

// nlohmann::json throws on invalid UTF-8 when dumping and on bad input when parsing; both
// are turned into values here so no exception leaves the store.
inline Result<std::string> DumpVars(const core::Vars& vars, std::string_view owner) {
  if (!vars.is_object()) {
    return Error::InvalidArgument(fmt::format("{}: vars must be a JSON object", owner));
  }
  try {
    return vars.dump();
  } catch (const nlohmann::json::exception& e) {
    return Error::InvalidArgument(fmt::format("{}: vars cannot be stored: {}", owner, e.what()));
  }
}

inline Result<core::Vars> ParseVars(const std::string& text, std::string_view owner) {
  try {
    auto vars = nlohmann::json::parse(text);
    if (!vars.is_object()) {
      return Error::Internal(fmt::format("{}: stored vars are not a JSON object", owner));
    }
    // Explicit in_place: json converts implicitly to almost anything, Error included.
    return Result<core::Vars>(boost::system::in_place_value, std::move(vars));
  } catch (const nlohmann::json::exception& e) {
    return Error::Internal(fmt::format("{}: stored vars are corrupt: {}", owner, e.what()));
  }
}

// Column lists and row readers; the SELECTs below list columns in exactly this order.
#define PG_TENANT_COLUMNS                                                                  \
  "id, name, display_name, window_days, vars, password_policy, confirm_grace_seconds, "    \
  "password_length, password_alphabet, retention_days, min_strength, ip_ranges, "          \
  "ip_as_identity, allow_plain_http, anomaly_lock, anomaly_prefix_v4, anomaly_prefix_v6, " \
  "late_first_fetch_days, lock_on_misuse"
#define PG_DEVICE_COLUMNS                                                                       \
  "id, mac, vendor, model, tenant_id, state, window_opens, window_expires, serial, vars, "      \
  "created_at, updated_at, token_hash, state_changed_at, config_key_enc, digest_password_enc, " \
  "pin_spki, locked_reason, last_seen_at, last_seen_ip, last_user_agent, firmware, "            \
  "config_key_delivered_at, admin_password_enc, engineer_window_ends"
#define PG_LINE_COLUMNS                                                                           \
  "device_id, idx, display_name, \"user\", auth_user, registrar, port, transport, password_enc, " \
  "delivered_at"
// What a line read returns: PG_LINE_COLUMNS, then the claim's columns, which only the
// claim statements write.
#define PG_LINE_READ_COLUMNS PG_LINE_COLUMNS ", claim, claim_in_flight"

inline Result<std::optional<std::string>> OpenSecret(const crypto::SecretBox& box,
                                                     const std::optional<std::vector<unsigned char>>& sealed,
                                                     std::string_view what) {
  if (!sealed) return std::optional<std::string>();
  auto opened = box.Open(*sealed);
  if (!opened) {
    return Error::Internal(
        fmt::format("{} cannot be decrypted; the master key does not match "
                    "this database, or the row is corrupt",
                    what));
  }
  return std::optional<std::string>(std::move(*opened));
}

inline std::optional<std::vector<unsigned char>> Seal(const crypto::SecretBox& box,
                                                      const std::optional<std::string>& clear) {
  if (!clear) return std::nullopt;
  return box.Seal(*clear);
}

// The tenant's stored source ranges (a JSON array of CIDR texts), parsed once here. A list
// that does not parse is an error naming the tenant, never a set that matches nothing.
inline Result<net::IpSet> ReadRanges(const std::string& text, const core::Tenant& t) {
  const auto corrupt = [&](const std::string& why) {
    return Error::Internal(fmt::format("tenant {} ({}) has corrupt ip_ranges in the database: {}", t.id, t.name, why));
  };
  std::vector<std::string> entries;
  try {
    entries = nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    return corrupt("not a JSON array of strings");
  }
  auto ranges = net::IpSet::Parse(entries);
  if (!ranges) return corrupt(ranges.error().message);
  return ranges;
}

template <class Row>
Result<core::Tenant> ReadTenant(const Row& s) {
  core::Tenant t;
  t.id = s.Int(0);
  t.name = s.Text(1);
  t.display_name = s.Text(2);
  t.window_days = static_cast<int>(s.Int(3));
  PG_TRY(t.vars, ParseVars(s.Text(4), fmt::format("tenant {}", t.id)));
  auto policy = core::ParsePasswordPolicy(s.Text(5));
  if (!policy) return Error::Internal(fmt::format("tenant {} has a corrupt password policy", t.id));
  t.password_policy = *policy;
  t.confirm_grace_seconds = static_cast<int>(s.Int(6));
  t.password_length = static_cast<int>(s.Int(7));
  t.password_alphabet = s.Text(8);
  t.retention_days = static_cast<int>(s.Int(9));
  auto strength = core::ParseIdentityStrength(s.Text(10));
  if (!strength) return Error::Internal(fmt::format("tenant {} has a corrupt min_strength", t.id));
  t.min_strength = *strength;
  PG_TRY(t.ip_ranges, ReadRanges(s.Text(11), t));
  t.ip_as_identity = s.Int(12) != 0;
  t.allow_plain_http = s.Int(13) != 0;
  t.anomaly_lock = s.Int(14) != 0;
  t.anomaly_prefix_v4 = static_cast<int>(s.Int(15));
  t.anomaly_prefix_v6 = static_cast<int>(s.Int(16));
  t.late_first_fetch_days = static_cast<int>(s.Int(17));
  t.lock_on_misuse = s.Int(18) != 0;
  return t;
}

template <class Row>
Result<core::Device> ReadDevice(const Row& s, const crypto::SecretBox& box) {
  const std::int64_t id = s.Int(0);
  auto mac = core::MacAddress::Parse(s.Text(1));
  if (!mac) return Error::Internal(fmt::format("device {} has a corrupt mac in the database", id));
  auto state = core::ParseDeviceState(s.Text(5));
  if (!state) return Error::Internal(fmt::format("device {} has a corrupt state", mac->str()));
  PG_TRY(core::Vars vars, ParseVars(s.Text(9), fmt::format("device {}", mac->str())));
  core::Device d{.id = id,
                 .mac = *mac,
                 .vendor = s.Text(2),
                 .model = s.Text(3),
                 .tenant_id = s.OptionalInt(4),
                 .state = *state,
                 .window_opens = s.OptionalInt(6),
                 .window_expires = s.OptionalInt(7),
                 .serial = s.Text(8),
                 .vars = std::move(vars),
                 .token_hash = s.Text(12),
                 .state_changed_at = s.OptionalInt(13),
                 .config_key = std::nullopt,
                 .digest_password = std::nullopt,
                 .pin_spki = s.Text(16),
                 .locked_reason = s.Text(17),
                 .last_seen_at = s.OptionalInt(18),
                 .last_seen_ip = s.Text(19),
                 .last_user_agent = s.Text(20),
                 .firmware = s.Text(21),
                 .created_at = s.Int(10),
                 .updated_at = s.Int(11)};
  d.config_key_delivered_at = s.OptionalInt(22);
  PG_TRY(d.config_key, OpenSecret(box, s.Blob(14), "config key of device " + d.mac.str()));
  PG_TRY(d.digest_password, OpenSecret(box, s.Blob(15), "digest password of device " + d.mac.str()));
  PG_TRY(d.admin_password, OpenSecret(box, s.Blob(23), "admin password of device " + d.mac.str()));
  d.engineer_window_ends = s.OptionalInt(24);
  return d;
}

// Binds the 14 policy columns that follow name/display_name/window_days/vars.
template <class Params>
void BindTenantPolicy(Params& s, const core::Tenant& t, int first) {
  s.BindText(first, core::PasswordPolicyName(t.password_policy));
  s.BindInt(first + 1, t.confirm_grace_seconds).BindInt(first + 2, t.password_length);
  s.BindText(first + 3, t.password_alphabet).BindInt(first + 4, t.retention_days);
  s.BindText(first + 5, core::IdentityStrengthName(t.min_strength));
  s.BindText(first + 6, nlohmann::json(t.ip_ranges.ToStrings()).dump());
  s.BindInt(first + 7, t.ip_as_identity ? 1 : 0).BindInt(first + 8, t.allow_plain_http ? 1 : 0);
  s.BindInt(first + 9, t.anomaly_lock ? 1 : 0).BindInt(first + 10, t.anomaly_prefix_v4);
  s.BindInt(first + 11, t.anomaly_prefix_v6).BindInt(first + 12, t.late_first_fetch_days);
  s.BindInt(first + 13, t.lock_on_misuse ? 1 : 0);
}

// Columns added by migrations 3, 5 and 10, bound in this order by BindDeviceExtra.
#define PG_DEVICE_EXTRA                                                                        \
  "config_key_enc, digest_password_enc, pin_spki, locked_reason, last_seen_at, last_seen_ip, " \
  "last_user_agent, firmware, config_key_delivered_at, admin_password_enc, engineer_window_ends"

template <class Params>
void BindDeviceExtra(Params& s, const core::Device& d, int first, const crypto::SecretBox& box) {
  s.BindBlob(first, Seal(box, d.config_key)).BindBlob(first + 1, Seal(box, d.digest_password));
  s.BindText(first + 2, d.pin_spki).BindText(first + 3, d.locked_reason);
  s.BindInt(first + 4, d.last_seen_at).BindText(first + 5, d.last_seen_ip);
  s.BindText(first + 6, d.last_user_agent).BindText(first + 7, d.firmware);
  s.BindInt(first + 8, d.config_key_delivered_at).BindBlob(first + 9, Seal(box, d.admin_password));
  s.BindInt(first + 10, d.engineer_window_ends);
}

inline Error TenantMissing(std::int64_t id) { return Error::NotFound(fmt::format("tenant {} does not exist", id)); }
inline Error DeviceMissing(std::int64_t id) { return Error::NotFound(fmt::format("device {} does not exist", id)); }

inline Status ValidateLine(const core::Line& line) {
  if (line.index < 1) {
    return Error::InvalidArgument(fmt::format("line index {} is invalid; lines start at 1", line.index));
  }
  if (line.port < 1 || line.port > 65535) {
    return Error::InvalidArgument(fmt::format("line {} port {} is outside 1-65535", line.index, line.port));
  }
  return Ok();
}

// A line row of PG_LINE_COLUMNS, its password opened with `box`.
template <class Row>
Result<core::Line> ReadLine(const Row& row, const crypto::SecretBox& box) {
  core::Line line;
  line.device_id = row.Int(0);
  line.index = static_cast<int>(row.Int(1));
  line.display_name = row.Text(2);
  line.user = row.Text(3);
  line.auth_user = row.Text(4);
  line.registrar = row.Text(5);
  line.port = static_cast<int>(row.Int(6));
  auto transport = core::ParseTransport(row.Text(7));
  if (!transport) {
    return Error::Internal(fmt::format("line {} of device {} has a corrupt transport", line.index, line.device_id));
  }
  line.transport = *transport;
  if (auto sealed = row.Blob(8)) {
    auto opened = box.Open(*sealed);
    if (!opened) {
      return Error::Internal(
          fmt::format("password of line {} of device {} cannot be decrypted; the master key does not "
                      "match this database, or the row is corrupt",
                      line.index, line.device_id));
    }
    line.password = std::move(*opened);
  }
  line.delivered_at = row.OptionalInt(9);
  line.claim = row.Text(10);
  line.claim_in_flight = row.Int(11) != 0;
  return line;
}

// An audit row of PG_AUDIT_ROW_COLUMNS.
template <class Row>
StoredAuditEvent ReadAuditRow(const Row& s) {
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

#define PG_KEY_COLUMNS                                                                          \
  "id, prefix, hash, role, tenant_id, name, created_by, created_at, expires_at, last_used_at, " \
  "revoked_at"

// An API key row of PG_KEY_COLUMNS.
template <class Row>
ApiKeyRecord ReadKey(const Row& s) {
  ApiKeyRecord k;
  k.id = s.Int(0);
  k.prefix = s.Text(1);
  k.hash = s.Text(2);
  k.role = s.Text(3);
  k.tenant_id = s.OptionalInt(4);
  k.name = s.Text(5);
  k.created_by = s.Text(6);
  k.created_at = s.Int(7);
  k.expires_at = s.OptionalInt(8);
  k.last_used_at = s.OptionalInt(9);
  k.revoked_at = s.OptionalInt(10);
  return k;
}

// A device row of PG_DEVICE_SUMMARY_COLUMNS: no secret, only whether each is stored.
template <class Row>
Result<DeviceSummary> ReadDeviceSummary(const Row& s) {
  auto mac = core::MacAddress::Parse(s.Text(1));
  auto state = core::ParseDeviceState(s.Text(5));
  if (!mac || !state) return Error::Internal(fmt::format("device {} is corrupt in the database", s.Int(0)));
  DeviceSummary d;
  d.device.id = s.Int(0);
  d.device.mac = *mac;
  d.device.vendor = s.Text(2);
  d.device.model = s.Text(3);
  d.device.tenant_id = s.OptionalInt(4);
  d.device.state = *state;
  d.device.window_opens = s.OptionalInt(6);
  d.device.window_expires = s.OptionalInt(7);
  d.device.serial = s.Text(8);
  d.device.created_at = s.Int(9);
  d.device.updated_at = s.Int(10);
  d.device.state_changed_at = s.OptionalInt(11);
  d.device.pin_spki = s.Text(12);
  d.device.locked_reason = s.Text(13);
  d.device.last_seen_at = s.OptionalInt(14);
  d.device.last_seen_ip = s.Text(15);
  d.device.last_user_agent = s.Text(16);
  d.device.firmware = s.Text(17);
  d.has_url_token = s.Int(18) != 0;
  d.has_digest_password = s.Int(19) != 0;
  d.has_config_key = s.Int(20) != 0;
  return d;
}

}  // namespace provgate::store::rows
