// Applies the store's schema steps (store/schema/steps.hpp) to an SQLite database. The
// schema_version table records one row per applied step; Migrate applies the missing steps
// in order, each in its own transaction, and refuses a database written by a newer provgate.
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "store/schema/steps.hpp"
#include "store/sqlite/connection.hpp"

namespace provgate::store::sqlite {

// The highest applied version; 0 for a database without schema_version rows.
Result<int> CurrentSchemaVersion(Connection& db);

// Creates schema_version if needed and applies every pending step, recording `now` (unix
// seconds) as applied_at. Idempotent. Fails with kFailedPrecondition if the database has a
// version newer than schema::LatestSchemaVersion(). Leaves foreign_keys ON on success.
Status Migrate(Connection& db, std::int64_t now);
// Migrate, but only the steps up to `version` (at most schema::LatestSchemaVersion()): a
// database at a version the server has left behind, for the tests of the step after it.
Status MigrateTo(Connection& db, int version, std::int64_t now);

}  // namespace provgate::store::sqlite
