#include "crypto/secret_box.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "crypto/random.hpp"

namespace provgate::crypto {
namespace {

static_assert(SecretBox::kKeySize == crypto_secretbox_KEYBYTES);
constexpr size_t kNonceSize = crypto_secretbox_NONCEBYTES;
constexpr size_t kTagSize = crypto_secretbox_MACBYTES;

using Key = std::array<unsigned char, SecretBox::kKeySize>;

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

Error IoError(std::string_view what, const std::filesystem::path& path, int err) {
  return Error::Internal(fmt::format("master key file {}: {}: {}", path.string(), what, Errno(err)));
}

Status ReadExactly(int fd, unsigned char* out, size_t n, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd, out + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return IoError("read", path, errno);
    if (r == 0) {
      return Error::InvalidArgument(
          fmt::format("master key file {} is truncated; expected {} bytes", path.string(), n));
    }
    done += static_cast<size_t>(r);
  }
  return Ok();
}

Status WriteExactly(int fd, const unsigned char* data, size_t n, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return IoError("write", path, errno);
    done += static_cast<size_t>(w);
  }
  return Ok();
}

Result<SecretBox> LoadKey(int raw_fd, const std::filesystem::path& path) {
  Fd fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Error::InvalidArgument(fmt::format("master key file {} is not a regular file", path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    return Error::FailedPrecondition(
        fmt::format("master key file {} is accessible by group or others (mode {:04o}); it protects every "
                    "SIP password, so provgate refuses it. Run `chmod 600 {}` and restart",
                    path.string(), st.st_mode & 07777, path.string()));
  }
  if (st.st_size != static_cast<off_t>(SecretBox::kKeySize)) {
    return Error::InvalidArgument(fmt::format("master key file {} has {} bytes; a master key is exactly {} bytes",
                                              path.string(), st.st_size, SecretBox::kKeySize));
  }
  Key key{};
  auto read = ReadExactly(fd.get(), key.data(), key.size(), path);
  if (!read) {
    sodium_memzero(key.data(), key.size());
    return read.error();
  }
  SecretBox box = SecretBox::FromKey(key);
  sodium_memzero(key.data(), key.size());
  return box;
}

// Makes a freshly linked key file survive a power cut: the entry lives in the directory.
Status SyncDirectory(const std::filesystem::path& path) {
  auto dir = path.parent_path();
  if (dir.empty()) dir = ".";
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return IoError("open parent directory", path, errno);
  if (::fsync(fd.get()) != 0) return IoError("fsync parent directory", path, errno);
  return Ok();
}

// Writes a new random key under a private temporary name, then link()s it to `path`.
// link() never replaces an existing file, so losing a creation race is detected (EEXIST)
// and the caller loads the winner's key instead.
Status CreateKeyFile(const std::filesystem::path& path) {
  auto suffix = RandomBytes(8);
  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp-{}", HexEncode(suffix.data(), suffix.size()));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return IoError("create", tmp, errno);
  auto fail = [&](Error e) -> Status {
    ::unlink(tmp.c_str());
    return e;
  };
  // The umask can only clear bits; fchmod makes the mode exact whatever it is.
  if (::fchmod(fd.get(), 0600) != 0) return fail(IoError("chmod", tmp, errno));
  Key key{};
  randombytes_buf(key.data(), key.size());
  auto written = WriteExactly(fd.get(), key.data(), key.size(), tmp);
  sodium_memzero(key.data(), key.size());
  if (!written) return fail(written.error());
  if (::fsync(fd.get()) != 0) return fail(IoError("fsync", tmp, errno));
  if (::close(fd.Release()) != 0) return fail(IoError("close", tmp, errno));
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) return Ok();  // another process created it first; load theirs
    return IoError("link", path, err);
  }
  ::unlink(tmp.c_str());
  return SyncDirectory(path);
}

}  // namespace

Result<SecretBox> SecretBox::OpenOrCreateKeyFile(const std::filesystem::path& path) {
  PG_TRY_STATUS(InitCrypto());
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) return LoadKey(fd, path);
    if (errno == ELOOP) {
      return Error::InvalidArgument(fmt::format(
          "master key file {} is a symbolic link; point the configuration at the file itself", path.string()));
    }
    if (errno != ENOENT) return IoError("open", path, errno);
    PG_TRY_STATUS(CreateKeyFile(path));
  }
  return Error::Internal(fmt::format("master key file {} vanished right after creation", path.string()));
}

Status SecretBox::InstallKeyFile(const std::filesystem::path& staged, const std::filesystem::path& target) {
  if (::rename(staged.c_str(), target.c_str()) != 0) return IoError("rename", staged, errno);
  return SyncDirectory(target);
}

SecretBox SecretBox::FromKey(const std::array<unsigned char, kKeySize>& key) { return SecretBox(key); }

SecretBox::~SecretBox() { sodium_memzero(key_.data(), key_.size()); }

std::vector<unsigned char> SecretBox::Seal(std::string_view plaintext) const {
  std::vector<unsigned char> out = RandomBytes(kNonceSize);
  out.resize(kNonceSize + kTagSize + plaintext.size());
  // Random 192-bit nonces: collisions are negligible for any number of seals we will do.
  crypto_secretbox_easy(out.data() + kNonceSize, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        plaintext.size(), out.data(), key_.data());
  return out;
}

Result<std::string> SecretBox::Open(const std::vector<unsigned char>& sealed) const {
  if (sealed.size() < kNonceSize + kTagSize) {
    return Error::InvalidArgument("sealed secret is truncated");
  }
  std::string plain(sealed.size() - kNonceSize - kTagSize, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), sealed.data() + kNonceSize,
                                 sealed.size() - kNonceSize, sealed.data(), key_.data()) != 0) {
    return Error::InvalidArgument("sealed secret failed authentication (wrong master key or corrupted data)");
  }
  return plain;
}

}  // namespace provgate::crypto
