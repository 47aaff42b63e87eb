// A strict RFC 4180 CSV reader for shipping manifests: comma-separated, fields optionally
// quoted with '"' (a doubled quote inside is one quote; quoted fields may span lines), LF or
// CRLF line ends. Trust level: files come from suppliers and operators; every malformed
// input is an error naming its line, never a crash (fuzzed: fuzz/csv_fuzz.cpp, which also
// checks that cutting the text into pieces anywhere changes nothing).
#pragma once

#include <cstddef>
#include <optional>
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

// Reads a text that arrives in pieces, one record at a time: memory is one record (at most
// kMaxCsvFields fields of kMaxCsvFieldBytes), whatever the size of the text. The records and
// errors are the same wherever the text is cut. Not thread-safe.
//
//   reader.Feed(piece);                      // then Next() until it returns nullopt
//   reader.Finish();                         // the text ended; Next() gives what is left
class CsvReader {
 public:
  // The next piece of the text. The reader keeps a view of it, not a copy: `piece` must stay
  // valid until Next() has returned nullopt, and only then may the next piece be fed.
  void Feed(std::string_view piece);
  // The text ended after the pieces fed so far.
  void Finish();
  // The next complete record, or nullopt when the pieces fed so far hold no further one (or,
  // after Finish, the text is done). Blank lines are skipped. kInvalidArgument "line N: ..."
  // on an unterminated quote, a quote inside an unquoted field, text after a closing quote, a
  // NUL byte, a bare carriage return, or an oversized field/record; an error is final: every
  // later call returns it again.
  Result<std::optional<CsvRecord>> Next();

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kCarriageReturn };
  // Records the error (final) and returns it.
  Error Fail(std::string_view what);
  Status EndField();
  // Ends the record; true when it is one to hand out (not a blank line).
  bool EndRecord();
  Status AddToField(char c);

  std::string_view piece_;
  size_t pos_ = 0;
  bool finished_ = false;
  bool done_ = false;
  State state_ = State::kFieldStart;
  size_t line_ = 1;
  bool record_started_ = false;
  CsvRecord record_;
  std::string field_;
  std::optional<Error> error_;
};

// The whole text at once (CsvReader fed one piece).
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text);

}  // namespace provgate::service
