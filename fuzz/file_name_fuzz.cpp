// The first parser every request target meets.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pipeline/file_name.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view target(reinterpret_cast<const char*>(data), size);
  for (std::string_view prefix : {"/", "/cfg/"}) {
    auto name = provgate::pipeline::ExtractFileName(target, prefix);
    if (name && (name->empty() || name->size() > 128 || name->find('/') != std::string_view::npos || *name == "." ||
                 *name == "..")) {
      std::abort();
    }
  }
  return 0;
}
