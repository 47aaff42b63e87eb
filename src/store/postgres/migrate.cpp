#include "store/postgres/migrate.hpp"

#include <fmt/format.h>

#include "store/schema/steps.hpp"

namespace provgate::store::postgres {
namespace {

// Held for the rest of the transaction by every migrating provgate of this database.
constexpr const char* kTakeMigrationLock = "SELECT pg_advisory_xact_lock(7322617760934512417)";

Status CreateSchemaVersion(Connection& db) {
  PG_TRY(Transaction tx, Transaction::Begin(db));
  PG_TRY_STATUS(db.Run(kTakeMigrationLock));
  PG_TRY_STATUS(db.ExecScript(schema::CreateSchemaVersionTable(schema::Dialect::kPostgres)));
  return tx.Commit();
}

Status ApplyStep(Connection& db, const schema::Migration& m, std::int64_t now) {
  PG_TRY(Transaction tx, Transaction::Begin(db));
  PG_TRY_STATUS(db.Run(kTakeMigrationLock));
  // Re-read under the lock: another node may have applied this step meanwhile.
  PG_TRY(int current, CurrentSchemaVersion(db));
  PG_TRY_STATUS(schema::RefuseNewer("(PostgreSQL)", current));
  if (current >= m.version) return Ok();
  if (auto applied = db.ExecScript(schema::RenderStep(m.sql, schema::Dialect::kPostgres)); !applied) {
    return Error::Internal(
        fmt::format("migration {} ({}) failed: {}", m.version, m.description, applied.error().message));
  }
  Params record;
  record.BindInt(1, m.version).BindText(2, m.description).BindInt(3, now);
  PG_TRY_STATUS(db.Run("INSERT INTO schema_version(version, description, applied_at) VALUES ($1, $2, $3)", record));
  return tx.Commit();
}

}  // namespace

Result<int> CurrentSchemaVersion(Connection& db) {
  PG_TRY(Rows rows, db.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  if (rows.empty()) return Error::Internal("schema_version query returned no row");
  const std::int64_t version = rows[0].Int(0);
  if (version < 0 || version > 1'000'000) {
    return Error::Internal(fmt::format("PostgreSQL database has a corrupt schema_version ({})", version));
  }
  return static_cast<int>(version);
}

Status Migrate(Connection& db, std::int64_t now) {
  PG_TRY_STATUS(CreateSchemaVersion(db));
  PG_TRY(int current, CurrentSchemaVersion(db));
  PG_TRY_STATUS(schema::RefuseNewer("(PostgreSQL)", current));
  for (const schema::Migration& m : schema::Migrations()) {
    if (m.version > current) PG_TRY_STATUS(ApplyStep(db, m, now));
  }
  return Ok();
}

}  // namespace provgate::store::postgres
