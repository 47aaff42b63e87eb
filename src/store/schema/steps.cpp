#include "store/schema/steps.hpp"

#include <fmt/format.h>

#include <array>
#include <regex>
#include <string_view>

namespace provgate::store::schema {
namespace {

// To change the schema, append a step; never edit a step that has shipped, because
// databases in the field already ran it. Write a step in the SQL both engines read (see
// RenderStep for the types each engine spells its own way); a statement only one engine
// has (SQLite's triggers and json_extract, PostgreSQL's plpgsql) goes into a block of its
// own:
//   --@sqlite      lines for SQLite only, up to the next marker
//   --@postgres    lines for PostgreSQL only, up to the next marker
//   --@end         back to lines for both
// A step that rebuilds a table (create new, copy, drop old, rename) is safe on SQLite:
// foreign keys are off while its steps run and checked before commit.

constexpr std::array kMigrations = {
    Migration{1, "tenants, devices, lines, audit", R"sql(
CREATE TABLE tenants (
  id           INTEGER PRIMARY KEY,
  name         TEXT    NOT NULL UNIQUE CHECK (name <> ''),
  display_name TEXT    NOT NULL DEFAULT '',
  window_days  INTEGER NOT NULL DEFAULT 14 CHECK (window_days >= 0),
  vars         TEXT    NOT NULL DEFAULT '{}'
);

CREATE TABLE devices (
  id             INTEGER PRIMARY KEY,
  mac            TEXT    NOT NULL UNIQUE CHECK (length(mac) = 12),
  vendor         TEXT    NOT NULL,
  model          TEXT    NOT NULL,
  tenant_id      INTEGER REFERENCES tenants(id),
  state          TEXT    NOT NULL
                 CHECK (state IN ('stock', 'assigned', 'provisioned', 'expired', 'retired')),
  window_opens   INTEGER,
  window_expires INTEGER,
  serial         TEXT    NOT NULL DEFAULT '',
  vars           TEXT    NOT NULL DEFAULT '{}',
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX devices_by_tenant_state ON devices(tenant_id, state);
CREATE INDEX devices_by_state ON devices(state);

-- password_enc is secretbox output (nonce || ciphertext); NULL means no password.
CREATE TABLE lines (
  device_id    INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  idx          INTEGER NOT NULL CHECK (idx >= 1),
  display_name TEXT    NOT NULL DEFAULT '',
  "user"       TEXT    NOT NULL,
  auth_user    TEXT    NOT NULL DEFAULT '',
  registrar    TEXT    NOT NULL,
  port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  transport    TEXT    NOT NULL CHECK (transport IN ('udp', 'tcp', 'tls')),
  password_enc BLOB,
  PRIMARY KEY (device_id, idx)
);

-- AUTOINCREMENT: ids never get reused, so id order is append order.
CREATE TABLE audit (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  time     INTEGER NOT NULL,
  kind     TEXT    NOT NULL,
  mac      TEXT    NOT NULL DEFAULT '',
  decision TEXT    NOT NULL,
  reason   TEXT    NOT NULL DEFAULT '',
  json     TEXT    NOT NULL
);
CREATE INDEX audit_by_mac ON audit(mac, id);
--@sqlite
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
--@postgres
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit is append-only'; END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION audit_append_only();
--@end
)sql"},
    Migration{2, "lifecycle: password policy, delivery tracking, URL token hash", R"sql(
ALTER TABLE tenants ADD COLUMN password_policy TEXT NOT NULL DEFAULT 'deliver-once'
  CHECK (password_policy IN ('deliver-once', 'until-confirmed', 'always'));
ALTER TABLE tenants ADD COLUMN confirm_grace_seconds INTEGER NOT NULL DEFAULT 0
  CHECK (confirm_grace_seconds >= 0);
ALTER TABLE tenants ADD COLUMN password_length INTEGER NOT NULL DEFAULT 20
  CHECK (password_length BETWEEN 8 AND 128);
ALTER TABLE tenants ADD COLUMN password_alphabet TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 30
  CHECK (retention_days >= 0);
ALTER TABLE devices ADD COLUMN token_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN state_changed_at INTEGER;
ALTER TABLE lines ADD COLUMN delivered_at INTEGER;
CREATE INDEX devices_by_token ON devices(token_hash) WHERE token_hash <> '';
)sql"},
    Migration{3, "authentication: policy, digest credentials, pins, locks, last seen, bans, config keys", R"sql(
ALTER TABLE tenants ADD COLUMN min_strength TEXT NOT NULL DEFAULT 'client-cert'
  CHECK (min_strength IN ('ip', 'digest', 'token', 'client-cert'));
ALTER TABLE tenants ADD COLUMN ip_ranges TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tenants ADD COLUMN ip_as_identity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN allow_plain_http INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN digest_user TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN digest_password_enc BLOB;
ALTER TABLE tenants ADD COLUMN anomaly_lock INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tenants ADD COLUMN anomaly_prefix_v4 INTEGER NOT NULL DEFAULT 24;
ALTER TABLE tenants ADD COLUMN anomaly_prefix_v6 INTEGER NOT NULL DEFAULT 64;
ALTER TABLE tenants ADD COLUMN late_first_fetch_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE devices ADD COLUMN config_key_enc BLOB;
ALTER TABLE devices ADD COLUMN digest_password_enc BLOB;
ALTER TABLE devices ADD COLUMN digest_user TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN pin_spki TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN locked_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN last_seen_at INTEGER;
ALTER TABLE devices ADD COLUMN last_seen_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN last_user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN firmware TEXT NOT NULL DEFAULT '';
CREATE TABLE bans (
  source   TEXT    PRIMARY KEY,
  reason   TEXT    NOT NULL,
  created  INTEGER NOT NULL,
  expires  INTEGER NOT NULL,
  offences INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX bans_by_expiry ON bans(expires);
)sql"},
    Migration{4, "audit copy marks: how far the server's audit file is copied", R"sql(
CREATE TABLE audit_copy_marks (
  file        TEXT    PRIMARY KEY,
  file_offset INTEGER NOT NULL CHECK (file_offset >= 0),
  run         TEXT    NOT NULL,
  seq         INTEGER NOT NULL CHECK (seq >= 0)
);
)sql"},
    Migration{5, "config key delivery tracking, generated admin passwords, lock on identity misuse", R"sql(
ALTER TABLE devices ADD COLUMN config_key_delivered_at INTEGER;
ALTER TABLE devices ADD COLUMN admin_password_enc BLOB;
ALTER TABLE tenants ADD COLUMN lock_on_misuse INTEGER NOT NULL DEFAULT 0;
)sql"},
    Migration{6, "operator API keys", R"sql(
-- A key is pgk_<prefix>_<secret>; only SHA-256 of the whole key is stored. The prefix is
-- public (it names the key in audit records and listings) and unique.
CREATE TABLE api_keys (
  id           INTEGER PRIMARY KEY,
  prefix       TEXT    NOT NULL UNIQUE CHECK (length(prefix) = 8),
  hash         TEXT    NOT NULL CHECK (length(hash) = 64),
  role         TEXT    NOT NULL CHECK (role IN ('admin', 'tenant-admin', 'support', 'auditor')),
  tenant_id    INTEGER REFERENCES tenants(id),
  name         TEXT    NOT NULL DEFAULT '',
  created_by   TEXT    NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  revoked_at   INTEGER,
  CHECK ((role = 'admin') = (tenant_id IS NULL) OR role IN ('support', 'auditor'))
);
CREATE INDEX audit_by_time ON audit(time, id);
)sql"},
    Migration{7, "no tenant-wide digest credential; a device's digest user is its MAC", R"sql(
-- A tenant-wide digest credential would let its holder fetch any of the tenant's configs by
-- naming a MAC (DESIGN.md invariant 1); a device's digest user name is its MAC. No index,
-- trigger or view names these columns, so SQLite (3.35+) drops them in place, rewriting
-- every row without the value.
ALTER TABLE tenants DROP COLUMN digest_user;
ALTER TABLE tenants DROP COLUMN digest_password_enc;
ALTER TABLE devices DROP COLUMN digest_user;
)sql"},
    Migration{8, "audit records carry the tenant that held their device or object", R"sql(
-- A tenant's audit view filters on tenant_id, written with each record (its "tenant_id"),
-- not on who holds a MAC now. Records from before carry none: admin records that named their
-- tenant (detail.tenant) get its id here; device records stay for platform operators only,
-- since who held the device when they were written is not known.
ALTER TABLE audit ADD COLUMN tenant_id INTEGER;
--@sqlite
DROP TRIGGER audit_no_update;
UPDATE audit SET tenant_id = (SELECT id FROM tenants WHERE name = json_extract(audit.json, '$.detail.tenant'))
  WHERE json_extract(json, '$.detail.tenant') IS NOT NULL;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
--@postgres
ALTER TABLE audit DISABLE TRIGGER audit_no_update;
UPDATE audit SET tenant_id = (SELECT id FROM tenants WHERE name = audit.json::jsonb #>> '{detail,tenant}')
  WHERE audit.json::jsonb #>> '{detail,tenant}' IS NOT NULL;
ALTER TABLE audit ENABLE TRIGGER audit_no_update;
--@end
CREATE INDEX audit_by_tenant ON audit(tenant_id, id);
)sql"},
    Migration{9, "web portal users, recovery codes and sessions", R"sql(
-- Portal users have the roles of API keys, with the same tenant rule. password_hash is an
-- Argon2id string (libsodium crypto_pwhash_str); totp_secret_enc is secretbox output;
-- totp_last_step is the last accepted TOTP time step (a code is never accepted twice).
CREATE TABLE portal_users (
  id              INTEGER PRIMARY KEY,
  name            TEXT    NOT NULL UNIQUE CHECK (name <> ''),
  role            TEXT    NOT NULL CHECK (role IN ('admin', 'tenant-admin', 'support', 'auditor')),
  tenant_id       INTEGER REFERENCES tenants(id),
  password_hash   TEXT    NOT NULL,
  totp_secret_enc BLOB    NOT NULL,
  totp_last_step  INTEGER NOT NULL DEFAULT 0,
  failed_codes    INTEGER NOT NULL DEFAULT 0,
  locked_until    INTEGER NOT NULL DEFAULT 0,
  created_by      TEXT    NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  CHECK ((role = 'admin') = (tenant_id IS NULL) OR role IN ('support', 'auditor'))
);
-- SHA-256 of each unused recovery code; a used code is deleted.
CREATE TABLE portal_recovery_codes (
  user_id INTEGER NOT NULL REFERENCES portal_users(id) ON DELETE CASCADE,
  hash    TEXT    NOT NULL CHECK (length(hash) = 64),
  PRIMARY KEY (user_id, hash)
);
-- SHA-256 of the session id; the id itself lives only in the user's cookie.
CREATE TABLE portal_sessions (
  id_hash      TEXT    PRIMARY KEY CHECK (length(id_hash) = 64),
  user_id      INTEGER NOT NULL REFERENCES portal_users(id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
CREATE INDEX portal_sessions_by_user ON portal_sessions(user_id);
)sql"},
    Migration{10, "engineer windows of web admin passwords shown in the portal", R"sql(
ALTER TABLE devices ADD COLUMN engineer_window_ends INTEGER;
)sql"},
    Migration{11, "claim ids: giving back an unsent response's passwords names that response's claim", R"sql(
-- The random id of the request that last claimed the line's password (or marked the
-- device's key delivered); a response that never left gives back only its own claim.
ALTER TABLE lines ADD COLUMN claim TEXT;
ALTER TABLE devices ADD COLUMN config_key_claim TEXT;
)sql"},
    Migration{12, "claims in flight: only a released claim's password counts as sent", R"sql(
-- 1 from a password's claim until its node has made the claim's record durable and is
-- about to send the response (DeviceWrites::ReleaseClaim): until then no fetch confirms
-- it, and another node refuses the device's retry instead of serving it without the
-- password. Claims made before this step count as released.
ALTER TABLE lines ADD COLUMN claim_in_flight INTEGER NOT NULL DEFAULT 0;
)sql"},
    Migration{13, "PostgreSQL announces which device or tenant each write changed, inside the write", R"sql(
--@postgres
-- Every write to tenants, devices or lines, by provgate or anyone else, notifies channel
-- provgate_data inside its own transaction with "<origin> <schema> <d|t|*> <id>"
-- (postgres::ChangeFeed): the writer's provgate.origin setting ('-' when unset), the
-- table's schema, and the device (for its row or its lines), the tenant, or anything (a
-- TRUNCATE). A device update that moved only the last-seen time, User-Agent or firmware
-- (the audit copy writes them on every boot) is not announced, so a storm of booting
-- phones keeps every node's fleet cache; a first sighting and a new address are.
CREATE FUNCTION provgate_announce() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  prefix text := coalesce(nullif(current_setting('provgate.origin', true), ''), '-') || ' ' || TG_TABLE_SCHEMA || ' ';
  kind text := CASE TG_TABLE_NAME WHEN 'tenants' THEN 't ' ELSE 'd ' END;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('provgate_data', prefix || '* 0');
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'devices' AND TG_OP = 'UPDATE' THEN
    -- Nested: a record's fields are looked up even where AND would not need them.
    IF to_jsonb(OLD) - 'last_seen_at' - 'last_user_agent' - 'firmware'
         = to_jsonb(NEW) - 'last_seen_at' - 'last_user_agent' - 'firmware'
       AND (OLD.last_seen_at IS NULL) = (NEW.last_seen_at IS NULL) THEN
      RETURN NULL;
    END IF;
  END IF;
  IF TG_TABLE_NAME = 'lines' THEN
    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('provgate_data', prefix || kind || OLD.device_id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('provgate_data', prefix || kind || NEW.device_id); END IF;
  ELSE
    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('provgate_data', prefix || kind || OLD.id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('provgate_data', prefix || kind || NEW.id); END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tenants_announce AFTER INSERT OR UPDATE OR DELETE ON tenants
FOR EACH ROW EXECUTE FUNCTION provgate_announce();
CREATE TRIGGER tenants_announce_truncate AFTER TRUNCATE ON tenants
FOR EACH STATEMENT EXECUTE FUNCTION provgate_announce();
CREATE TRIGGER devices_announce AFTER INSERT OR UPDATE OR DELETE ON devices
FOR EACH ROW EXECUTE FUNCTION provgate_announce();
CREATE TRIGGER devices_announce_truncate AFTER TRUNCATE ON devices
FOR EACH STATEMENT EXECUTE FUNCTION provgate_announce();
CREATE TRIGGER lines_announce AFTER INSERT OR UPDATE OR DELETE ON lines
FOR EACH ROW EXECUTE FUNCTION provgate_announce();
CREATE TRIGGER lines_announce_truncate AFTER TRUNCATE ON lines
FOR EACH STATEMENT EXECUTE FUNCTION provgate_announce();
--@end
)sql"},
};

constexpr bool VersionsAreContiguous() {
  for (size_t i = 0; i < kMigrations.size(); ++i) {
    if (kMigrations[i].version != static_cast<int>(i) + 1) return false;
  }
  return true;
}
static_assert(VersionsAreContiguous(), "migration versions must be 1, 2, 3, ... in order");

constexpr std::string_view kSqliteMarker = "--@sqlite";
constexpr std::string_view kPostgresMarker = "--@postgres";
constexpr std::string_view kEndMarker = "--@end";

// The step's lines for `dialect`: the shared ones and those of the dialect's own blocks.
std::string SelectLines(std::string_view sql, Dialect dialect) {
  enum class Scope : std::uint8_t { kBoth, kSqlite, kPostgres };
  Scope scope = Scope::kBoth;
  std::string out;
  while (!sql.empty()) {
    const size_t eol = sql.find('\n');
    const std::string_view line = sql.substr(0, eol == std::string_view::npos ? sql.size() : eol + 1);
    sql.remove_prefix(line.size());
    if (line.starts_with(kSqliteMarker)) {
      scope = Scope::kSqlite;
    } else if (line.starts_with(kPostgresMarker)) {
      scope = Scope::kPostgres;
    } else if (line.starts_with(kEndMarker)) {
      scope = Scope::kBoth;
    } else if (scope == Scope::kBoth || (scope == Scope::kSqlite && dialect == Dialect::kSqlite) ||
               (scope == Scope::kPostgres && dialect == Dialect::kPostgres)) {
      out.append(line);
    }
  }
  return out;
}

// SQLite's spelling of the types, in PostgreSQL's: a rowid key becomes an identity column
// (never reused, like AUTOINCREMENT), every INTEGER a 64-bit BIGINT (SQLite's INTEGER holds
// 64 bits; unix times outgrow 32), a BLOB a BYTEA.
std::string RenderTypesForPostgres(std::string sql) {
  static const std::regex kRowidKey(R"(\bINTEGER PRIMARY KEY( AUTOINCREMENT)?)");
  static const std::regex kInteger(R"(\bINTEGER\b)");
  static const std::regex kBlob(R"(\bBLOB\b)");
  sql = std::regex_replace(sql, kRowidKey, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  sql = std::regex_replace(sql, kInteger, "BIGINT");
  return std::regex_replace(sql, kBlob, "BYTEA");
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations.back().version; }

std::string RenderStep(std::string_view sql, Dialect dialect) {
  std::string lines = SelectLines(sql, dialect);
  return dialect == Dialect::kPostgres ? RenderTypesForPostgres(std::move(lines)) : lines;
}

std::string CreateSchemaVersionTable(Dialect dialect) {
  return RenderStep(R"sql(
CREATE TABLE IF NOT EXISTS schema_version (
  version     INTEGER NOT NULL PRIMARY KEY,
  description TEXT    NOT NULL,
  applied_at  INTEGER NOT NULL
))sql",
                    dialect);
}

Status RefuseNewer(std::string_view database, int current) {
  if (current <= LatestSchemaVersion()) return Ok();
  return Error::FailedPrecondition(
      fmt::format("database {} has schema version {}, but this provgate only knows versions up to {}; "
                  "it was written by a newer provgate. Run that version, or restore a backup taken "
                  "before the upgrade",
                  database, current, LatestSchemaVersion()));
}

}  // namespace provgate::store::schema
