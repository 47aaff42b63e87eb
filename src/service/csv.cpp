#include "service/csv.hpp"

#include <fmt/format.h>

namespace provgate::service {

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  std::vector<CsvRecord> out;
  CsvRecord record;
  std::string field;
  size_t line = 1;
  size_t i = 0;
  bool record_started = false;
  auto fail = [&](const std::string& what) {
    return Error::InvalidArgument(fmt::format("line {}: {}", line, what));
  };
  auto end_field = [&]() -> Status {
    if (record.fields.size() >= kMaxCsvFields) return fail(fmt::format("more than {} fields", kMaxCsvFields));
    record.fields.push_back(std::move(field));
    field.clear();
    return Ok();
  };
  auto end_record = [&] {
    // A record that is one empty field is a blank line.
    if (!(record.fields.size() == 1 && record.fields[0].empty())) out.push_back(std::move(record));
    record = CsvRecord{};
    record_started = false;
  };

  while (i < text.size()) {
    if (!record_started) {
      record.line = line;
      record_started = true;
    }
    const char c = text[i];
    if (c == '\0') return fail("NUL byte");
    if (c == '"' && field.empty()) {
      // Quoted field: runs to the matching quote; "" is a literal quote.
      ++i;
      for (;;) {
        if (i >= text.size()) return fail("unterminated quoted field");
        const char q = text[i];
        if (q == '\0') return fail("NUL byte");
        if (q == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (q == '\n') ++line;
        field.push_back(q);
        if (field.size() > kMaxCsvFieldBytes) return fail("field longer than 1024 bytes");
        ++i;
      }
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        return fail("text after a closing quote");
      }
      continue;
    }
    if (c == ',') {
      PG_TRY_STATUS(end_field());
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      if (c == '\r') {
        if (i + 1 >= text.size() || text[i + 1] != '\n') return fail("bare carriage return");
        ++i;
      }
      PG_TRY_STATUS(end_field());
      end_record();
      ++line;
      ++i;
      continue;
    }
    if (c == '"') return fail("quote inside an unquoted field");
    field.push_back(c);
    if (field.size() > kMaxCsvFieldBytes) return fail("field longer than 1024 bytes");
    ++i;
  }
  if (record_started) {
    PG_TRY_STATUS(end_field());
    end_record();
  }
  return out;
}

}  // namespace provgate::service
