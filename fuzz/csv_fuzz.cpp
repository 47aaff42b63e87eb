// Shipping manifests come from suppliers and arrive in pieces (the admin API reads them off
// the socket): the CSV reader must survive anything, and cutting the text into pieces must
// change neither the records nor the error.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "service/csv.hpp"

namespace {

using provgate::service::CsvReader;
using provgate::service::CsvRecord;

// The records and error of `text` fed in pieces of 1, 2, ... `cycle` bytes, round and round.
std::vector<CsvRecord> InPieces(std::string_view text, size_t cycle, std::string& error) {
  CsvReader reader;
  std::vector<CsvRecord> out;
  auto drain = [&] {
    for (;;) {
      auto r = reader.Next();
      if (!r) {
        error = r.error().message;
        return false;
      }
      if (!*r) return true;
      out.push_back(std::move(**r));
    }
  };
  size_t size = 1;
  for (size_t at = 0; at < text.size(); at += size, size = size % cycle + 1) {
    const std::string piece(text.substr(at, size));  // dropped after use, as a socket buffer is
    reader.Feed(piece);
    if (!drain()) return out;
  }
  reader.Finish();
  drain();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto records = provgate::service::ParseCsv(text);
  if (records) {
    size_t last_line = 0;
    for (const auto& r : *records) {
      if (r.line < last_line || r.fields.empty() || r.fields.size() > provgate::service::kMaxCsvFields) std::abort();
      for (const auto& f : r.fields) {
        if (f.size() > provgate::service::kMaxCsvFieldBytes) std::abort();
      }
      last_line = r.line;
    }
  }
  // The piece sizes follow from the input's first byte, so the fuzzer explores cuts too.
  const size_t cycle = size == 0 ? 1 : 1 + data[0] % 16;
  std::string error;
  const auto pieces = InPieces(text, cycle, error);
  if (records.has_value() != error.empty()) std::abort();
  if (!records) {
    if (error != records.error().message) std::abort();
    return 0;
  }
  if (pieces.size() != records->size()) std::abort();
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].line != (*records)[i].line || pieces[i].fields != (*records)[i].fields) std::abort();
  }
  return 0;
}
