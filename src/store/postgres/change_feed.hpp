// The data generation (ProvenReads::DataGeneration) of a PostgreSQL store that several
// processes share, with what each step changed (store::ChangeLog). This process records each
// of its own committed writes to tenants, devices or lines (Record). Every write, by any
// process, psql included, is announced by the database itself: triggers on those tables
// (schema step 13) NOTIFY on the channel provgate_data, inside the writing transaction, a
// payload "<origin> <schema> <d|t|*> <id>": the writer's provgate.origin setting (Origin(),
// set on this process's connections), the table's schema, the device, tenant or anything,
// and its id. A thread (pg-changes) LISTENs on its own connection and records the changes
// of other origins in its schema; a payload it cannot read counts as a change of anything.
// PostgreSQL delivers a notification only after the transaction committed, so a node that
// sees the new generation reads the new data. While the listening connection is down the
// generation moves as a change of anything once per reconnect attempt: a missed
// notification must not leave a cache believing it is current. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "base/result.hpp"
#include "store/change_log.hpp"
#include "store/data_changes.hpp"
#include "store/postgres/connection.hpp"

namespace provgate::store::postgres {

class ChangeFeed {
 public:
  // Listens before it returns: no write committed after Start goes unseen.
  static Result<std::unique_ptr<ChangeFeed>> Start(const std::string& url);
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;
  ~ChangeFeed();  // stops the listener and joins it

  std::uint64_t Load() const { return log_.Load(); }
  DataChanges ChangesSince(std::uint64_t generation) const { return log_.ChangesSince(generation); }
  // After this process's write committed, never before: counts its change (of `key`, or of
  // anything).
  void Record(std::optional<ChangedKey> key) { log_.Record(key); }
  // Waits until the generation differs from `seen` or `limit` passes; false on the limit.
  bool WaitBeyond(std::uint64_t seen, std::chrono::milliseconds limit) { return log_.WaitBeyond(seen, limit); }
  // This process's provgate.origin: set on every connection that writes (Pool::Open).
  const std::string& Origin() const { return origin_; }

 private:
  ChangeFeed(std::string url, std::string origin, std::string schema, int wake)
      : url_(std::move(url)), origin_(std::move(origin)), schema_(std::move(schema)), wake_(wake) {}
  // Records the change a notification's payload announces, unless this process made it or
  // it is of another schema.
  void Take(const std::string& payload);
  void Listen(Connection conn);
  // Runs the listening loop on `conn` until it fails or the feed stops.
  void Drain(Connection& conn);
  Result<Connection> Reconnect();
  // Waits up to `ms` for `fd` to be readable (-1: none) or the feed to stop; false when
  // stopping.
  bool Wait(int fd, int ms);

  const std::string url_;
  const std::string origin_;  // its own announcements are skipped
  const std::string schema_;  // the store's tables' schema: other schemas' are skipped
  const int wake_;            // eventfd the destructor signals, so the listener stops at once
  ChangeLog log_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace provgate::store::postgres
