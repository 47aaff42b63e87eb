// Shipping manifests come from suppliers: the CSV reader must survive anything.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "service/csv.hpp"

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
  return 0;
}
