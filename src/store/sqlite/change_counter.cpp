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

constexpr size_t kSize = sizeof(std::uint64_t);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "the counter is shared between processes: it must not need a lock");

Error FileError(const std::filesystem::path& file, const char* what) {
  return Error::Unavailable(fmt::format("change counter {}: {}: {}", file.string(), what, std::strerror(errno)));
}

}  // namespace

Result<ChangeCounter> ChangeCounter::Open(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return FileError(file, "cannot open");
  struct stat st {};
  // Another process may be creating it too: growing a new file to 8 zero bytes is the same
  // whoever does it, and an existing counter is never truncated.
  if (::fstat(fd, &st) != 0 || (st.st_size < static_cast<off_t>(kSize) && ::ftruncate(fd, kSize) != 0)) {
    const Error e = FileError(file, "cannot size");
    ::close(fd);
    return e;
  }
  void* map = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file
  if (map == MAP_FAILED) return FileError(file, "cannot map");
  return ChangeCounter(static_cast<std::uint64_t*>(map));
}

ChangeCounter::ChangeCounter(ChangeCounter&& other) noexcept : word_(other.word_) { other.word_ = nullptr; }

ChangeCounter::~ChangeCounter() {
  if (word_ != nullptr) ::munmap(word_, kSize);
}

std::uint64_t ChangeCounter::Load() const { return std::atomic_ref(*word_).load(); }

void ChangeCounter::Bump() { std::atomic_ref(*word_).fetch_add(1); }

}  // namespace provgate::store::sqlite
