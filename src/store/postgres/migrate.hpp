// Applies the store's schema steps (store/schema/steps.hpp) to a PostgreSQL database, in the
// connection's search_path. The schema_version table records one row per applied step;
// Migrate applies the missing steps in order, each in its own transaction under an advisory
// lock, so nodes starting together apply each step once; it refuses a database written by a
// newer provgate.
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "store/postgres/connection.hpp"

namespace provgate::store::postgres {

// The highest applied version; 0 for a database without schema_version rows.
Result<int> CurrentSchemaVersion(Connection& db);

// Creates schema_version if needed and applies every pending step, recording `now` (unix
// seconds) as applied_at. Idempotent. Fails with kFailedPrecondition if the database has a
// version newer than schema::LatestSchemaVersion().
Status Migrate(Connection& db, std::int64_t now);

}  // namespace provgate::store::postgres
