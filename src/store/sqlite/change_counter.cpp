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

}  // namespace

Result<ChangeCounter> ChangeCounter::Open(const std::filesystem::path& file, const struct stat& db) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return FileError(file, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return FileError(file, "cannot stat", err);
  }
  // Root creating it for a database of another user hands it over, as SQLite does with its
  // -wal and -shm files, so the server can open what a root CLI created.
  if (::geteuid() == 0 && st.st_uid != db.st_uid && ::fchown(fd, db.st_uid, db.st_gid) == 0) {
    st.st_uid = db.st_uid;
  }
  // Whoever could write it could set it back and make stale cache entries current again.
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || (st.st_uid != ::geteuid() && ::geteuid() != 0)) {
    ::close(fd);
    return Error::FailedPrecondition(fmt::format(
        "change counter {} must be a regular file owned by this user with mode 0600 (like the "
        "database); remove it with the server stopped and provgate creates it again",
        file.string()));
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
