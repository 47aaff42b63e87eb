#include "audit/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace provgate::audit {
namespace {

Error IoError(const std::string& what, const std::string& path) {
  return Error::Unavailable("audit journal " + path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(const std::filesystem::path& path, std::size_t size) {
  if (size == 0) return Error::InvalidArgument("audit journal size must be positive");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) return IoError("cannot open", path.string());
  return std::unique_ptr<Journal>(new Journal(fd, path.string(), size));
}

Journal::~Journal() { ::close(fd_); }

Result<std::string> Journal::Contents() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return IoError("cannot stat", path_);
  std::string out(std::min(static_cast<std::size_t>(st.st_size), size_), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read", path_);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

Status Journal::Reset() {
  const std::string zeros(std::size_t{1} << 20, '\0');
  for (std::size_t off = 0; off < size_; off += zeros.size()) {
    PG_TRY_STATUS(WriteAt(std::string_view(zeros).substr(0, std::min(zeros.size(), size_ - off)), off));
  }
  if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) return IoError("cannot set size", path_);
  if (::fsync(fd_) != 0) return IoError("cannot sync", path_);
  pos_ = 0;
  return Ok();
}

Status Journal::Discard() {
  if (::ftruncate(fd_, 0) != 0) return IoError("cannot empty", path_);
  if (::fsync(fd_) != 0) return IoError("cannot sync", path_);
  pos_ = 0;
  return Ok();
}

Status Journal::Append(std::string_view lines, const std::function<Status()>& before_wrap) {
  if (lines.size() > size_) {
    return Error::InvalidArgument("audit batch larger than the journal");
  }
  if (pos_ + lines.size() > size_) {
    PG_TRY_STATUS(before_wrap());
    pos_ = 0;
  }
  PG_TRY_STATUS(WriteAt(lines, pos_));
  if (::fdatasync(fd_) != 0) return IoError("sync failed", path_);
  pos_ += lines.size();
  return Ok();
}

Status Journal::WriteAt(std::string_view bytes, std::size_t offset) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("write failed", path_);
    done += static_cast<std::size_t>(n);
  }
  return Ok();
}

}  // namespace provgate::audit
