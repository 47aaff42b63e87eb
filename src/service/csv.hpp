// A strict RFC 4180 CSV reader for shipping manifests: comma-separated, fields optionally
// quoted with '"' (a doubled quote inside is one quote; quoted fields may span lines), LF or
// CRLF line ends. Trust level: files come from suppliers and operators; every malformed
// input is an error naming its line, never a crash (fuzzed: fuzz/csv_fuzz.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::service {

struct CsvRecord {
  size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

inline constexpr size_t kMaxCsvFieldBytes = 1024;
inline constexpr size_t kMaxCsvFields = 128;

// kInvalidArgument "line N: ..." on an unterminated quote, a quote inside an unquoted field,
// text after a closing quote, a NUL byte, or an oversized field/record. Blank lines are skipped.
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text);

}  // namespace provgate::service
