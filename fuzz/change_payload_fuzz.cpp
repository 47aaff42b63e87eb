#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/postgres/change_feed.hpp"

// A notification payload (postgres::ChangeFeed::Parse): whatever the database hands over, the
// parse never reads outside it, and what it accepts reads back to the same payload.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto p = provgate::store::postgres::ChangeFeed::Parse(text);
  if (!p) return 0;
  if (p->origin.empty() || p->schema.empty() || p->origin.find(' ') != std::string_view::npos) std::abort();
  const char* kind = !p->key ? "*" : p->key->kind == provgate::store::ChangedKey::Kind::kDevice ? "d" : "t";
  if (p->key && p->key->id != p->id) std::abort();
  const std::string again =
      std::string(p->origin) + " " + std::string(p->schema) + " " + kind + " " + std::to_string(p->id);
  const auto reread = provgate::store::postgres::ChangeFeed::Parse(again);
  if (!reread || reread->origin != p->origin || reread->schema != p->schema || reread->id != p->id ||
      reread->key != p->key) {
    std::abort();
  }
  return 0;
}
