// A counter every provgate process on the host bumps after it commits a change to devices,
// tenants or lines: a word in a small shared file next to the database, mapped by each
// process. It is only as good as the file: deleted while a server runs, the server keeps
// the old one (its caches then rely on their expiry, store::kCacheMaxAge). Reading it is one memory load, so the
// server's fleet cache can check on every request, without a database round trip, that nothing changed since it read an
// entry (store::CachedStore). SQLite offers no such signal without starting a read transaction.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>

#include "base/result.hpp"

namespace provgate::store::sqlite {

class ChangeCounter {
 public:
  // Opens `file`, creating it owner-only when absent; `db` is the database's stat, whose
  // owner a file created by root is handed to. Refuses a file others could write.
  static Result<ChangeCounter> Open(const std::filesystem::path& file, const struct stat& db);
  ChangeCounter(ChangeCounter&& other) noexcept;
  ChangeCounter& operator=(ChangeCounter&&) = delete;
  ChangeCounter(const ChangeCounter&) = delete;
  ~ChangeCounter();

  std::uint64_t Load() const;
  // After the change is committed, never before: a reader that sees the old value may
  // still be reading the old data, and must not be told it is current afterwards.
  void Bump();

 private:
  explicit ChangeCounter(std::uint64_t* word) : word_(word) {}
  std::uint64_t* word_;  // in a MAP_SHARED mapping of the file
};

}  // namespace provgate::store::sqlite
