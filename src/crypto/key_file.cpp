#include "crypto/key_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "crypto/random.hpp"

namespace provgate::crypto {
namespace {

// Owns a file descriptor; closes it on every exit path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string Errno(int err) { return std::strerror(err); }

Error IoError(const KeyFileKind& kind, std::string_view what, const std::filesystem::path& path, int err) {
  return Error::Internal(fmt::format("{} {}: {}: {}", kind.what, path.string(), what, Errno(err)));
}

Status ReadExactly(int fd, unsigned char* out, size_t n, const std::filesystem::path& path, const KeyFileKind& kind) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd, out + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return IoError(kind, "read", path, errno);
    if (r == 0) {
      return Error::InvalidArgument(fmt::format("{} {} is truncated; expected {} bytes", kind.what, path.string(), n));
    }
    done += static_cast<size_t>(r);
  }
  return Ok();
}

Status WriteExactly(int fd, const unsigned char* data, size_t n, const std::filesystem::path& path,
                    const KeyFileKind& kind) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return IoError(kind, "write", path, errno);
    done += static_cast<size_t>(w);
  }
  return Ok();
}

Status LoadKey(int raw_fd, const std::filesystem::path& path, std::span<unsigned char> key, const KeyFileKind& kind) {
  Fd fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError(kind, "stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Error::InvalidArgument(fmt::format("{} {} is not a regular file", kind.what, path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    return Error::FailedPrecondition(
        fmt::format("{} {} is accessible by group or others (mode {:04o}); it protects {}, so provgate refuses "
                    "it. Run `chmod 600 {}` and restart",
                    kind.what, path.string(), st.st_mode & 07777, kind.protects, path.string()));
  }
  if (st.st_size != static_cast<off_t>(key.size())) {
    return Error::InvalidArgument(fmt::format("{} {} has {} bytes; it must hold exactly {} bytes", kind.what,
                                              path.string(), st.st_size, key.size()));
  }
  return ReadExactly(fd.get(), key.data(), key.size(), path, kind);
}

// Makes a freshly linked key file survive a power cut: the entry lives in the directory.
Status SyncDirectory(const std::filesystem::path& path, const KeyFileKind& kind) {
  auto dir = path.parent_path();
  if (dir.empty()) dir = ".";
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return IoError(kind, "open parent directory", path, errno);
  if (::fsync(fd.get()) != 0) return IoError(kind, "fsync parent directory", path, errno);
  return Ok();
}

// Writes a new random key under a private temporary name, then link()s it to `path`.
// link() never replaces an existing file, so losing a creation race is detected (EEXIST)
// and the caller loads the winner's key instead.
Status CreateKeyFile(const std::filesystem::path& path, size_t size, const KeyFileKind& kind) {
  auto suffix = RandomBytes(8);
  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp-{}", HexEncode(suffix.data(), suffix.size()));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return IoError(kind, "create", tmp, errno);
  auto fail = [&](Error e) -> Status {
    ::unlink(tmp.c_str());
    return e;
  };
  // The umask can only clear bits; fchmod makes the mode exact whatever it is.
  if (::fchmod(fd.get(), 0600) != 0) return fail(IoError(kind, "chmod", tmp, errno));
  std::vector<unsigned char> key(size);
  randombytes_buf(key.data(), key.size());
  auto written = WriteExactly(fd.get(), key.data(), key.size(), tmp, kind);
  sodium_memzero(key.data(), key.size());
  if (!written) return fail(written.error());
  if (::fsync(fd.get()) != 0) return fail(IoError(kind, "fsync", tmp, errno));
  if (::close(fd.Release()) != 0) return fail(IoError(kind, "close", tmp, errno));
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) return Ok();  // another process created it first; load theirs
    return IoError(kind, "link", path, err);
  }
  ::unlink(tmp.c_str());
  return SyncDirectory(path, kind);
}

}  // namespace

Status OpenOrCreateKeyFile(const std::filesystem::path& path, std::span<unsigned char> key, const KeyFileKind& kind) {
  PG_TRY_STATUS(InitCrypto());
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      Status st = LoadKey(fd, path, key, kind);
      if (!st) sodium_memzero(key.data(), key.size());
      return st;
    }
    if (errno == ELOOP) {
      return Error::InvalidArgument(fmt::format("{} {} is a symbolic link; point the configuration at the file itself",
                                                kind.what, path.string()));
    }
    if (errno != ENOENT) return IoError(kind, "open", path, errno);
    PG_TRY_STATUS(CreateKeyFile(path, key.size(), kind));
  }
  return Error::Internal(fmt::format("{} {} vanished right after creation", kind.what, path.string()));
}

Status ReplaceKeyFile(const std::filesystem::path& staged, const std::filesystem::path& target,
                      const KeyFileKind& kind) {
  if (::rename(staged.c_str(), target.c_str()) != 0) return IoError(kind, "rename", staged, errno);
  return SyncDirectory(target, kind);
}

}  // namespace provgate::crypto
