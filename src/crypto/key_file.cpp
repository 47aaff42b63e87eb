#include "crypto/key_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

Error IoError(std::string_view what, const std::filesystem::path& path, std::string_view op, int err) {
  return Error::Internal(fmt::format("{} {}: {}: {}", what, path.string(), op, std::strerror(err)));
}

Result<FileKey> LoadKey(int raw_fd, const std::filesystem::path& path, std::string_view what) {
  Fd fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError(what, path, "stat", errno);
  if (!S_ISREG(st.st_mode)) {
    return Error::InvalidArgument(fmt::format("{} {} is not a regular file", what, path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    return Error::FailedPrecondition(
        fmt::format("{} {} is accessible by group or others (mode {:04o}); provgate refuses it. Run `chmod 600 {}` "
                    "and restart",
                    what, path.string(), st.st_mode & 07777, path.string()));
  }
  if (st.st_size != static_cast<off_t>(kKeyFileBytes)) {
    return Error::InvalidArgument(
        fmt::format("{} {} has {} bytes; the key is exactly {} bytes", what, path.string(), st.st_size, kKeyFileBytes));
  }
  FileKey key{};
  size_t done = 0;
  while (done < key.size()) {
    ssize_t r = ::read(fd.get(), key.data() + done, key.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int err = r < 0 ? errno : EIO;
      sodium_memzero(key.data(), key.size());
      return IoError(what, path, "read", err);
    }
    done += static_cast<size_t>(r);
  }
  return key;
}

// Writes a new random key under a private temporary name, then link()s it to `path`.
// link() never replaces an existing file: losing a creation race shows as EEXIST and the
// caller loads the winner's key.
Status CreateKeyFile(const std::filesystem::path& path, std::string_view what) {
  auto suffix = RandomBytes(8);
  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp-{}", HexEncode(suffix.data(), suffix.size()));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return IoError(what, tmp, "create", errno);
  auto fail = [&](Error e) -> Status {
    ::unlink(tmp.c_str());
    return e;
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail(IoError(what, tmp, "chmod", errno));
  FileKey key{};
  randombytes_buf(key.data(), key.size());
  size_t done = 0;
  while (done < key.size()) {
    ssize_t w = ::write(fd.get(), key.data() + done, key.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      const int err = errno;
      sodium_memzero(key.data(), key.size());
      return fail(IoError(what, tmp, "write", err));
    }
    done += static_cast<size_t>(w);
  }
  sodium_memzero(key.data(), key.size());
  if (::fsync(fd.get()) != 0) return fail(IoError(what, tmp, "fsync", errno));
  if (::close(fd.Release()) != 0) return fail(IoError(what, tmp, "close", errno));
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) return Ok();
    return IoError(what, path, "link", err);
  }
  ::unlink(tmp.c_str());
  auto dir = path.parent_path();
  if (dir.empty()) dir = ".";
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return IoError(what, path, "open parent directory", errno);
  if (::fsync(dir_fd.get()) != 0) return IoError(what, path, "fsync parent directory", errno);
  return Ok();
}

}  // namespace

Result<FileKey> OpenOrCreateKeyFile(const std::filesystem::path& path, std::string_view what) {
  PG_TRY_STATUS(InitCrypto());
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) return LoadKey(fd, path, what);
    if (errno == ELOOP) {
      return Error::InvalidArgument(
          fmt::format("{} {} is a symbolic link; point the configuration at the file itself", what, path.string()));
    }
    if (errno != ENOENT) return IoError(what, path, "open", errno);
    PG_TRY_STATUS(CreateKeyFile(path, what));
  }
  return Error::Internal(fmt::format("{} {} vanished right after creation", what, path.string()));
}

}  // namespace provgate::crypto
