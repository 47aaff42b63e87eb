#include "audit/log_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace provgate::audit {

Result<std::unique_ptr<LogFile>> LogFile::Open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Error::Unavailable("cannot open audit log " + path.string() + ": " + std::strerror(errno));
  }
  std::error_code ec;
  auto key = std::filesystem::weakly_canonical(path, ec);
  return std::unique_ptr<LogFile>(new LogFile(fd, ec ? path.string() : key.string()));
}

LogFile::~LogFile() {
  ::fdatasync(fd_);
  ::close(fd_);
}

Status LogFile::Append(std::string_view lines) {
  if (torn_) {
    PG_TRY_STATUS(WriteAll("\n"));
    torn_ = false;
  }
  return WriteAll(lines);
}

Status LogFile::WriteAll(std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (off > 0) torn_ = true;
      return Error::Unavailable(std::string("audit log write failed: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Ok();
}

Status LogFile::Sync() {
  if (::fdatasync(fd_) != 0) {
    return Error::Unavailable(std::string("audit log fsync failed: ") + std::strerror(errno));
  }
  return Ok();
}

std::optional<std::int64_t> LogFile::EndOfLastWrite() const {
  const off_t end = ::lseek(fd_, 0, SEEK_CUR);
  if (end < 0) return std::nullopt;
  return end;
}

Result<std::int64_t> LogFile::Size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return Error::Unavailable("cannot stat audit log " + key_ + ": " + std::strerror(errno));
  }
  return static_cast<std::int64_t>(st.st_size);
}

Status LogFile::LockForServer() {
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error::Unavailable("audit log " + key_ +
                                " is in use by another provgate server: run one server per installation");
    }
    return Error::Unavailable("cannot lock audit log " + key_ + ": " + std::strerror(errno));
  }
  return Ok();
}

// The descriptor is write-only: the last byte is read through a second one.
Status LogFile::EndTornLine() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || st.st_size == 0) return Ok();
  char last = '\n';
  const int rd = ::open(key_.c_str(), O_RDONLY | O_CLOEXEC);
  if (rd >= 0) {
    if (::pread(rd, &last, 1, st.st_size - 1) != 1) last = '\n';
    ::close(rd);
  }
  return last != '\n' ? Append("\n") : Ok();
}

Result<std::int64_t> LogFile::ScanLines(std::int64_t from, std::int64_t to,
                                        const std::function<void(std::string_view)>& line) const {
  std::string text(static_cast<size_t>(to - from), '\0');
  std::ifstream in(key_, std::ios::binary);
  in.seekg(from);
  if (!in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
    return Error::Unavailable("cannot read audit log " + key_ + " to catch up its store copy");
  }
  size_t pos = 0;
  for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    line(std::string_view(text.data() + pos, nl - pos));
  }
  return from + static_cast<std::int64_t>(pos);
}

}  // namespace provgate::audit
