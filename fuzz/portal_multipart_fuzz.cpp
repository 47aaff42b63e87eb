// Portal multipart bodies (the CSV import upload) are parsed before their CSRF token is
// checked: the parser must survive anything, and what it accepts must hold its promises.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "portal/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first line as a Content-Type, the rest as the body under its boundary (or "b").
  const auto nl = text.find('\n');
  const auto head = text.substr(0, nl);
  const auto body = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  std::string boundary = "b";
  if (auto b = provgate::portal::MultipartBoundary(head)) {
    if (b->empty() || b->size() > provgate::portal::kMaxBoundaryBytes) std::abort();
    boundary = *b;
  }
  if (auto parts = provgate::portal::ParseMultipart(boundary, body)) {
    if (parts->size() > provgate::portal::kMaxMultipartParts) std::abort();
    std::set<std::string> names;
    for (const auto& p : *parts) {
      if (p.name.empty() || !names.insert(p.name).second) std::abort();
      if (p.body.data() < body.data() || p.body.data() + p.body.size() > body.data() + body.size()) std::abort();
    }
  }
  return 0;
}
