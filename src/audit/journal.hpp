// The server's audit commit journal: a fixed-size ring file of blocks written once when it
// is reset, into which each batch of audit lines is synced. The audit file itself is then
// appended without a sync of its own per batch.
//
// Why: an append's fdatasync waits for the file system to commit its own journal (the
// file grew), and costs this machine 75-95 µs of CPU and 3-4 context switches; an
// overwrite of blocks already written needs only the data flush, 43-50 µs and 2 switches
// (docs/performance.md). A record is durable once its batch is in the ring; the audit file
// is synced before the ring overwrites anything, and at the next server start the lines
// the ring holds but the audit file lost (a power cut) are appended to it again.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace provgate::audit {

class Journal {
 public:
  static constexpr std::size_t kDefaultSize = std::size_t{8} << 20;

  // Opens or creates (mode 0640) the ring at `path`; leaves its contents as they are, so
  // that Contents can read what a previous run left.
  static Result<std::unique_ptr<Journal>> Open(const std::filesystem::path& path,
                                               std::size_t size = kDefaultSize);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Everything in the ring: lines of the last lap from its start, then whatever older
  // bytes follow them (parse line by line and judge each line, as Recover does).
  Result<std::string> Contents() const;
  // Fills the ring with zeros, written (not merely allocated) so later syncs need no file
  // system journal commit, and starts at its beginning. Durable on return.
  Status Reset();
  // Writes `lines` (whole lines) at the next place and syncs them. When they do not fit
  // before the end, `before_wrap` runs first (it must make the audit file durable: the
  // ring is about to overwrite its oldest lines) and they go to the start. Lines larger
  // than the ring are refused with kInvalidArgument; the caller syncs the audit file instead.
  Status Append(std::string_view lines, const std::function<Status()>& before_wrap);
  // Empties the file once the audit file is durable (a clean stop): the next start then
  // has nothing to append again, even to an audit file rotated in between.
  Status Discard();
  std::size_t size() const { return size_; }

 private:
  Journal(int fd, std::string path, std::size_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  Status WriteAt(std::string_view bytes, std::size_t offset);

  int fd_;
  std::string path_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace provgate::audit
