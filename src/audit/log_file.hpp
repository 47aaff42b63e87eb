// The audit file itself: opened append-only (mode 0640) and owned for the log's life. Whole
// lines per write with O_APPEND keep records intact while other processes (CLI commands)
// append to the same file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace provgate::audit {

class LogFile {
 public:
  // Opens, creating it if absent.
  static Result<std::unique_ptr<LogFile>> Open(const std::filesystem::path& path);
  // Syncs and closes.
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // The file's canonical path (its store copy mark's key).
  const std::string& key() const { return key_; }

  // Appends `lines` (whole lines) in as few writes as the kernel takes. A failed append
  // that wrote only part of its lines (a full volume takes what fits) leaves a torn line;
  // the next append ends it first, so it cannot swallow the first record after it. Not
  // thread-safe: one writer at a time (the committer).
  Status Append(std::string_view lines);
  Status Sync();
  // Where this descriptor's last write ended (O_APPEND: the file's end then, whoever
  // appended before it); nothing if the kernel cannot say.
  std::optional<std::int64_t> EndOfLastWrite() const;
  Result<std::int64_t> Size() const;
  // Takes the server's exclusive lock on the file, held until it is closed: kUnavailable if
  // another process holds it.
  Status LockForServer();
  // Ends a line a crash cut short, so it cannot swallow the next record appended to it.
  Status EndTornLine();
  // Calls `line` for each complete line (without its newline) between bytes `from` and `to`,
  // in order; returns the offset just past the last of them.
  Result<std::int64_t> ScanLines(std::int64_t from, std::int64_t to,
                                 const std::function<void(std::string_view)>& line) const;

 private:
  LogFile(int fd, std::string key) : fd_(fd), key_(std::move(key)) {}
  Status WriteAll(std::string_view bytes);
  int fd_;
  bool torn_ = false;  // the last write failed after writing part of its bytes
  const std::string key_;
};

}  // namespace provgate::audit
