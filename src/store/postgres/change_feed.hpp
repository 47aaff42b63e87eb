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
#include <string_view>
#include <thread>

#include "base/result.hpp"
#include "store/change_log.hpp"
#include "store/data_changes.hpp"
#include "store/postgres/connection.hpp"

namespace provgate::store::postgres {

class ChangeFeed {
 public:
  // How the listener notices a connection that went silent: after `ping_after_quiet` with
  // nothing heard it asks the server, and takes the connection as lost (a change of
  // anything, then a new connection) when no answer comes within `answer_within`, which
  // also bounds a connection attempt (at least 2 s). So a node is deaf to other nodes'
  // writes for at most about their sum, plus a reconnect.
  struct Timing {
    std::chrono::milliseconds ping_after_quiet{5000};
    std::chrono::milliseconds answer_within{5000};
  };
  // Listens before it returns: no write committed after Start goes unseen.
  static Result<std::unique_ptr<ChangeFeed>> Start(const std::string& url, Timing timing);
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

  // A notification's payload, read; nullopt when it is not one the triggers write.
  struct Payload {
    std::string_view origin;
    std::string_view schema;
    std::optional<ChangedKey> key;  // none: anything ("*")
    std::int64_t id = 0;
  };
  static std::optional<Payload> Parse(std::string_view payload);

 private:
  ChangeFeed(std::string url, Timing timing, std::string origin, std::string schema, int wake)
      : url_(std::move(url)), timing_(timing), origin_(std::move(origin)), schema_(std::move(schema)), wake_(wake) {}
  static Result<Connection> Connect(const std::string& url, const Timing& timing);
  // Records the change a notification's payload announces, unless this process made it or
  // it is of another schema.
  void Take(std::string_view payload);
  void Listen(Connection conn);
  // Runs the listening loop on `conn` until it fails or the feed stops.
  void Drain(Connection& conn);
  Result<Connection> Reconnect();
  // Waits up to `ms` (-1: no limit) for `fd` to be readable (-1: no fd) or the feed to stop.
  enum class Woken : std::uint8_t { kReadable, kTimedOut, kStopping };
  Woken Wait(int fd, int ms);

  const std::string url_;
  const Timing timing_;
  const std::string origin_;  // its own announcements are skipped
  const std::string schema_;  // the store's tables' schema: other schemas' are skipped
  const int wake_;            // eventfd the destructor signals: the listener stops at once, or after a
                              // ping or connection attempt under way (Timing::answer_within)
  ChangeLog log_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace provgate::store::postgres
