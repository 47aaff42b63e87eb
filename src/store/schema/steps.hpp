// The store's schema, once for every backend: one list of versioned steps, each written in
// the SQL that SQLite and PostgreSQL both read, rendered for each engine where they spell a
// type differently or only one has a statement (steps.cpp says how). Each backend records
// the applied steps in its schema_version table and applies the missing ones in order, one
// transaction per step (sqlite/migrate.hpp, postgres/migrate.hpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace provgate::store::schema {

struct Migration {
  int version;              // 1, 2, 3, ... without gaps
  const char* description;  // recorded in schema_version for operators
  const char* sql;          // DDL/DML only; no BEGIN/COMMIT, the backend wraps each step
};

enum class Dialect : std::uint8_t { kSqlite, kPostgres };

// All steps this binary knows, ordered by version.
std::span<const Migration> Migrations();
int LatestSchemaVersion();

// A step's SQL as `dialect` runs it.
std::string RenderStep(std::string_view sql, Dialect dialect);
// CREATE TABLE IF NOT EXISTS schema_version, as `dialect` runs it.
std::string CreateSchemaVersionTable(Dialect dialect);
// kFailedPrecondition naming `database` when `current` is newer than this binary knows.
Status RefuseNewer(std::string_view database, int current);

}  // namespace provgate::store::schema
