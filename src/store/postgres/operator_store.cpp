#include "store/postgres/operator_store.hpp"

#include <fmt/format.h>

#include "store/postgres/migrate.hpp"
#include "store/rows.hpp"

namespace provgate::store {
namespace {

using postgres::Params;
using postgres::Row;
using postgres::Rows;
using postgres::Violation;

constexpr int kOperatorSchemaVersion = 6;  // migration that created api_keys

Status CheckLimit(int limit) {
  if (limit < 1 || limit > 1000) return Error::InvalidArgument("limit must be between 1 and 1000");
  return Ok();
}

}  // namespace

Result<std::unique_ptr<PostgresOperatorStore>> PostgresOperatorStore::Open(const std::string& url, size_t pool_size) {
  PG_TRY(auto pool, postgres::Pool::Open(url, pool_size));
  {
    PG_TRY(auto db, pool->Acquire());
    PG_TRY(int version, postgres::CurrentSchemaVersion(*db));
    if (version < kOperatorSchemaVersion) {
      return Error::FailedPrecondition(
          fmt::format("PostgreSQL {} has schema version {}; the operator store needs {} (open the store first)",
                      postgres::RedactUrl(url), version, kOperatorSchemaVersion));
    }
  }
  return std::unique_ptr<PostgresOperatorStore>(new PostgresOperatorStore(std::move(pool)));
}

Result<ApiKeyRecord> PostgresOperatorStore::AddApiKey(const ApiKeyRecord& k) {
  Params p;
  p.BindText(1, k.prefix).BindText(2, k.hash).BindText(3, k.role).BindInt(4, k.tenant_id);
  p.BindText(5, k.name).BindText(6, k.created_by).BindInt(7, k.created_at).BindInt(8, k.expires_at);
  PG_TRY(auto db, pool_->Acquire());
  auto added = db->Exec(
      "INSERT INTO api_keys(prefix, hash, role, tenant_id, name, created_by, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      p);
  if (!added) {
    if (db->violation() == Violation::kUnique) return Error::AlreadyExists("API key prefix is taken");
    if (db->violation() == Violation::kForeignKey) return Error::NotFound("tenant does not exist");
    return added.error();
  }
  ApiKeyRecord out = k;
  out.id = (*added)[0].Int(0);
  return out;
}

Result<ApiKeyRecord> PostgresOperatorStore::FindApiKey(const std::string& prefix) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows,
         db->Exec("SELECT " PG_KEY_COLUMNS " FROM api_keys WHERE prefix = $1", Params().BindText(1, prefix)));
  if (rows.empty()) return Error::NotFound("no such API key");
  return rows::ReadKey(rows[0]);
}

Result<std::vector<ApiKeyRecord>> PostgresOperatorStore::ListApiKeys(std::optional<std::int64_t> tenant_id) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT " PG_KEY_COLUMNS " FROM api_keys "
                             "WHERE ($1::bigint IS NULL OR tenant_id = $1::bigint) ORDER BY id",
                             Params().BindInt(1, tenant_id)));
  return postgres::ReadAll<ApiKeyRecord>(rows,
                                         [](const Row& row) -> Result<ApiKeyRecord> { return rows::ReadKey(row); });
}

Status PostgresOperatorStore::RevokeApiKey(const std::string& prefix, std::optional<std::int64_t> tenant_id,
                                           std::int64_t now) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE api_keys SET revoked_at = $3 WHERE prefix = $1 "
                             "AND ($2::bigint IS NULL OR tenant_id = $2::bigint) AND revoked_at IS NULL",
                             Params().BindText(1, prefix).BindInt(2, tenant_id).BindInt(3, now)));
  if (rows.Changed() == 0) return Error::NotFound("no active API key with prefix " + prefix);
  return Ok();
}

Status PostgresOperatorStore::TouchApiKey(std::int64_t id, std::int64_t now) {
  PG_TRY(auto db, pool_->Acquire());
  return db->Run("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", Params().BindInt(1, id).BindInt(2, now));
}

Result<std::vector<DeviceSummary>> PostgresOperatorStore::QueryDevices(const DeviceQuery& q) {
  PG_TRY_STATUS(CheckLimit(q.limit));
  Params p;
  p.BindInt(1, q.tenant_id).BindInt(2, q.stock_only ? 1 : 0);
  if (q.state) {
    p.BindText(3, core::DeviceStateName(*q.state));
  } else {
    p.BindNull(3);
  }
  p.BindInt(4, q.now).BindText(5, q.vendor).BindText(6, q.model);
  p.BindInt(7, q.locked ? std::optional<std::int64_t>(*q.locked ? 1 : 0) : std::nullopt);
  p.BindInt(8, q.seen_since).BindInt(9, q.seen_before).BindText(10, q.after_mac).BindInt(11, q.limit);
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT " PG_DEVICE_SUMMARY_COLUMNS " FROM devices "
                             "WHERE ($1::bigint IS NULL OR tenant_id = $1::bigint) AND ($2 = 0 OR tenant_id IS NULL) "
                             "AND ($3::text IS NULL OR (CASE WHEN state = 'assigned' AND window_expires IS NOT NULL "
                             "AND window_expires <= $4 THEN 'expired' ELSE state END) = $3::text) "
                             "AND ($5 = '' OR vendor = $5) AND ($6 = '' OR model = $6) "
                             "AND ($7::bigint IS NULL OR (CASE WHEN locked_reason <> '' THEN 1 ELSE 0 END) = $7) "
                             "AND ($8::bigint IS NULL OR last_seen_at >= $8::bigint) "
                             "AND ($9::bigint IS NULL OR last_seen_at IS NULL OR last_seen_at < $9::bigint) "
                             "AND mac > $10 ORDER BY mac LIMIT $11",
                             p));
  return postgres::ReadAll<DeviceSummary>(rows, [](const Row& row) { return rows::ReadDeviceSummary(row); });
}

Result<std::vector<StoredAuditEvent>> PostgresOperatorStore::QueryAudit(const AuditQuery& q) {
  PG_TRY_STATUS(CheckLimit(q.limit));
  Params p;
  p.BindText(1, q.mac).BindInt(2, q.tenant_id).BindText(3, q.actor);
  p.BindText(4, q.decision).BindInt(5, q.since).BindInt(6, q.until).BindInt(7, q.before_id);
  p.BindInt(8, q.limit);
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT " PG_AUDIT_ROW_COLUMNS " FROM audit "
                             "WHERE ($1 = '' OR mac = $1) "
                             "AND ($2::bigint IS NULL OR tenant_id = $2::bigint) "
                             "AND ($3 = '' OR json::jsonb ->> 'actor' = $3) "
                             "AND ($4 = '' OR decision = $4) "
                             "AND ($5::bigint IS NULL OR time >= $5::bigint) "
                             "AND ($6::bigint IS NULL OR time < $6::bigint) "
                             "AND ($7::bigint IS NULL OR id < $7::bigint) ORDER BY id DESC LIMIT $8",
                             p));
  return postgres::ReadAll<StoredAuditEvent>(
      rows, [](const Row& row) -> Result<StoredAuditEvent> { return rows::ReadAuditRow(row); });
}

Status PostgresOperatorStore::Ping() {
  PG_TRY(auto db, pool_->Acquire());
  return db->Run("SELECT 1");
}

}  // namespace provgate::store
