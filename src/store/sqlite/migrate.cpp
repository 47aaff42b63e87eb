#include "store/sqlite/migrate.hpp"

#include <fmt/format.h>

namespace provgate::store::sqlite {
namespace {

Status ApplyStep(Connection& db, const schema::Migration& m, std::int64_t now) {
  PG_TRY(Transaction tx, Transaction::Begin(db));
  // Re-read under the write lock: another process may have applied this step meanwhile.
  PG_TRY(int current, CurrentSchemaVersion(db));
  PG_TRY_STATUS(schema::RefuseNewer(db.path().string(), current));
  if (current >= m.version) return Ok();
  const std::string sql = schema::RenderStep(m.sql, schema::Dialect::kSqlite);
  auto applied = db.Exec(sql.c_str());
  if (!applied) {
    return Error::Internal(
        fmt::format("migration {} ({}) failed: {}", m.version, m.description, applied.error().message));
  }
  {
    PG_TRY(Statement check, db.Prepare("PRAGMA foreign_key_check"));
    PG_TRY(bool violation, check.Step());
    if (violation) {
      return Error::Internal(fmt::format("migration {} ({}) would leave rows violating a foreign key in table {}",
                                         m.version, m.description, check.Text(0)));
    }
  }
  {
    PG_TRY(Statement record,
           db.Prepare("INSERT INTO schema_version(version, description, applied_at) VALUES (?1, ?2, ?3)"));
    record.BindInt(1, m.version).BindText(2, m.description).BindInt(3, now);
    PG_TRY_STATUS(record.Run());
  }
  return tx.Commit();
}

}  // namespace

Result<int> CurrentSchemaVersion(Connection& db) {
  PG_TRY(Statement stmt, db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  PG_TRY(bool row, stmt.Step());
  if (!row) return Error::Internal("schema_version query returned no row");
  const std::int64_t version = stmt.Int(0);
  if (version < 0 || version > 1'000'000) {
    return Error::Internal(fmt::format("database {} has a corrupt schema_version ({})", db.path().string(), version));
  }
  return static_cast<int>(version);
}

Status Migrate(Connection& db, std::int64_t now) { return MigrateTo(db, schema::LatestSchemaVersion(), now); }

Status MigrateTo(Connection& db, int version, std::int64_t now) {
  PG_TRY_STATUS(db.Exec(schema::CreateSchemaVersionTable(schema::Dialect::kSqlite).c_str()));
  PG_TRY(int current, CurrentSchemaVersion(db));
  PG_TRY_STATUS(schema::RefuseNewer(db.path().string(), current));
  // Foreign keys must be off while steps run: dropping a parent table during a rebuild would
  // otherwise cascade-delete its children. The pragma is a no-op inside a transaction, so it
  // is set here, and each step runs foreign_key_check itself before committing.
  PG_TRY_STATUS(db.Exec("PRAGMA foreign_keys = OFF"));
  for (const schema::Migration& m : schema::Migrations()) {
    if (m.version > current && m.version <= version) PG_TRY_STATUS(ApplyStep(db, m, now));
  }
  PG_TRY_STATUS(db.Exec("PRAGMA foreign_keys = ON"));
  PG_TRY(std::string fk, db.QueryText("PRAGMA foreign_keys"));
  if (fk != "1") return Error::Internal("SQLite refused to enable foreign key enforcement");
  return Ok();
}

}  // namespace provgate::store::sqlite
