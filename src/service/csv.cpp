#include "service/csv.hpp"

#include <fmt/format.h>

#include <cassert>

namespace provgate::service {

void CsvReader::Feed(std::string_view piece) {
  assert(pos_ == piece_.size() && !finished_);
  piece_ = piece;
  pos_ = 0;
}

void CsvReader::Finish() { finished_ = true; }

Error CsvReader::Fail(std::string_view what) {
  error_ = Error::InvalidArgument(fmt::format("line {}: {}", line_, what));
  return *error_;
}

Status CsvReader::EndField() {
  if (record_.fields.size() >= kMaxCsvFields) return Fail(fmt::format("more than {} fields", kMaxCsvFields));
  record_.fields.push_back(std::move(field_));
  field_.clear();
  return Ok();
}

bool CsvReader::EndRecord() {
  record_started_ = false;
  state_ = State::kFieldStart;
  // A record that is one empty field is a blank line.
  if (record_.fields.size() == 1 && record_.fields[0].empty()) {
    record_ = CsvRecord{};
    return false;
  }
  return true;
}

Status CsvReader::AddToField(char c) {
  field_.push_back(c);
  if (field_.size() > kMaxCsvFieldBytes) return Fail("field longer than 1024 bytes");
  return Ok();
}

Result<std::optional<CsvRecord>> CsvReader::Next() {
  if (error_) return *error_;
  auto hand_out = [this] {
    std::optional<CsvRecord> out(std::move(record_));
    record_ = CsvRecord{};
    return out;
  };
  while (pos_ < piece_.size()) {
    const char c = piece_[pos_++];
    if (!record_started_) {
      record_.line = line_;
      record_started_ = true;
    }
    switch (state_) {
      case State::kQuoted:
        if (c == '\0') return Fail("NUL byte");
        if (c == '"') {
          state_ = State::kQuoteInQuoted;
          continue;
        }
        if (c == '\n') ++line_;
        PG_TRY_STATUS(AddToField(c));
        continue;
      case State::kQuoteInQuoted:
        if (c == '"') {  // "" inside quotes is one quote
          state_ = State::kQuoted;
          PG_TRY_STATUS(AddToField(c));
          continue;
        }
        if (c != ',' && c != '\n' && c != '\r') return Fail("text after a closing quote");
        break;  // the quote closed the field; `c` ends it as after an unquoted one
      case State::kCarriageReturn:
        if (c != '\n') return Fail("bare carriage return");
        break;
      case State::kFieldStart:
        if (c == '"') {
          state_ = State::kQuoted;
          continue;
        }
        break;
      case State::kUnquoted:
        if (c == '"') return Fail("quote inside an unquoted field");
        break;
    }
    // Outside quotes.
    if (c == '\0') return Fail("NUL byte");
    if (c == ',') {
      PG_TRY_STATUS(EndField());
      state_ = State::kFieldStart;
    } else if (c == '\r') {
      state_ = State::kCarriageReturn;
    } else if (c == '\n') {
      PG_TRY_STATUS(EndField());
      const bool keep = EndRecord();
      ++line_;
      if (keep) return hand_out();
    } else {
      PG_TRY_STATUS(AddToField(c));
      state_ = State::kUnquoted;
    }
  }
  if (!finished_ || done_) return std::optional<CsvRecord>();
  done_ = true;
  if (state_ == State::kQuoted) return Fail("unterminated quoted field");
  if (state_ == State::kCarriageReturn) return Fail("bare carriage return");
  if (!record_started_) return std::optional<CsvRecord>();
  PG_TRY_STATUS(EndField());
  if (EndRecord()) return hand_out();
  return std::optional<CsvRecord>();
}

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  CsvReader reader;
  reader.Feed(text);
  reader.Finish();
  std::vector<CsvRecord> out;
  for (;;) {
    PG_TRY(auto record, reader.Next());
    if (!record) return out;
    out.push_back(std::move(*record));
  }
}

}  // namespace provgate::service
