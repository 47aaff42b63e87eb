// What `provgate db check` verifies on either backend: the rules the store's writes keep,
// which the schema alone does not enforce (or that a database edited behind provgate's back,
// a restored file or an SQLite connection with foreign keys off, may have broken). Each is
// one query in the SQL both engines read, listing the offending rows.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace provgate::store::schema {

struct Invariant {
  const char* name;  // stable, for scripts: "line-delivered-and-pending"
  const char* rule;  // what must hold, for the operator
  // SELECT of one text column naming each offending row, at most kInvariantSampleRows.
  const char* sql;
};

inline constexpr int kInvariantSampleRows = 20;

// One broken invariant: its name and rule, and the rows that break it (a sample).
struct InvariantViolation {
  std::string name;
  std::string rule;
  std::vector<std::string> rows;
};

std::span<const Invariant> Invariants();

// Runs every invariant's query through `query` (which returns the first column of each
// row); the broken ones, in the order of Invariants().
using TextQuery = std::function<Result<std::vector<std::string>>(const char* sql)>;
Result<std::vector<InvariantViolation>> CheckInvariants(const TextQuery& query);

}  // namespace provgate::store::schema
