#include "store/sqlite/change_counter.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace provgate::store::sqlite {
namespace {

constexpr off_t kSize = sizeof(std::uint64_t);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "the counter is shared between processes: it must not need a lock");

Error FileError(const std::filesystem::path& file, const char* what, int err) {
  return Error::Unavailable(fmt::format("change counter {}: {}: {}", file.string(), what, std::strerror(err)));
}

Error Refused(const std::filesystem::path& file, const char* why) {
  return Error::FailedPrecondition(
      fmt::format("change counter {}: {}; it must be a regular file, not a link, owned by the database's "
                  "owner and closed to group and others; remove it with the server stopped and provgate "
                  "creates it again",
                  file.string(), why));
}

}  // namespace

Result<ChangeCounter> ChangeCounter::Open(const std::filesystem::path& file, const struct stat& db) {
  bool created = true;
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) {
    if (errno == ELOOP) return Refused(file, "it is a symbolic link");
    if (errno == EACCES) return Refused(file, "this user cannot open it");
    return FileError(file, "cannot open", errno);
  }
  // Root creating it for another user's database hands it over, as SQLite does with its
  // -wal and -shm files, so that the server can open what a root CLI created. An existing
  // file is never taken over.
  if (created && ::geteuid() == 0 && db.st_uid != 0 && ::fchown(fd, db.st_uid, db.st_gid) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(file.c_str());
    return FileError(file, "cannot hand it to the database's owner", err);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return FileError(file, "cannot stat", err);
  }
  // Whoever could write it could set it back and make stale cache entries current again.
  const char* refusal = !S_ISREG(st.st_mode)      ? "it is not a regular file"
                        : (st.st_mode & 077) != 0 ? "group or others can access it"
                        : st.st_uid != db.st_uid  ? "it is not owned by the database's owner"
                                                  : nullptr;
  if (refusal != nullptr) {
    ::close(fd);
    return Refused(file, refusal);
  }
  // Another process may be creating it too: growing a new file to 8 zero bytes is the same
  // whoever does it, and an existing counter is never truncated.
  if (st.st_size < kSize && ::ftruncate(fd, kSize) != 0) {
    const int err = errno;
    ::close(fd);
    return FileError(file, "cannot size", err);
  }
  void* map = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file
  if (map == MAP_FAILED) return FileError(file, "cannot map", err);
  return ChangeCounter(static_cast<std::uint64_t*>(map));
}

ChangeCounter::ChangeCounter(ChangeCounter&& other) noexcept : word_(other.word_) { other.word_ = nullptr; }

ChangeCounter::~ChangeCounter() {
  if (word_ != nullptr) ::munmap(word_, kSize);
}

std::uint64_t ChangeCounter::Load() const { return std::atomic_ref(*word_).load(); }

void ChangeCounter::Bump() { std::atomic_ref(*word_).fetch_add(1); }

}  // namespace provgate::store::sqlite
