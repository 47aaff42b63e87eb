// The data generation (ProvenReads::DataGeneration) of a PostgreSQL store that several
// processes share: a counter this process bumps after each of its own committed writes to
// tenants, devices or lines, telling the others with NOTIFY on the channel provgate_data;
// and a thread (pg-changes) that LISTENs on its own connection and bumps the counter when
// another process announces a write. PostgreSQL delivers a notification only after the
// announcing transaction committed, so a node that sees the new value reads the new data.
// While the listening connection is down the counter is bumped once per reconnect attempt
// (a missed notification must not leave a cache believing it is current); caches then
// also rely on their expiry (store::kCacheMaxAge). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.hpp"
#include "store/postgres/connection.hpp"

namespace provgate::store::postgres {

class ChangeFeed {
 public:
  // Listens before it returns: no write committed after Start goes unseen.
  static Result<std::unique_ptr<ChangeFeed>> Start(const std::string& url);
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;
  ~ChangeFeed();  // stops the listener and joins it

  std::uint64_t Load() const { return generation_.load(std::memory_order_acquire); }
  // After a write committed, never before: counts it here and announces it to the other
  // processes through a connection of `pool`. A failed announcement is logged; the others'
  // caches then catch up by their expiry.
  void Announce(Pool& pool);
  // Waits until the generation differs from `seen` or `limit` passes; false on the limit.
  bool WaitBeyond(std::uint64_t seen, std::chrono::milliseconds limit);

 private:
  ChangeFeed(std::string url, std::string origin, int wake)
      : url_(std::move(url)), origin_(std::move(origin)), wake_(wake) {}
  void Bump();
  void Listen(Connection conn);
  // Runs the listening loop on `conn` until it fails or the feed stops.
  void Drain(Connection& conn);
  Result<Connection> Reconnect();
  // Waits up to `ms` for `fd` to be readable (-1: none) or the feed to stop; false when
  // stopping.
  bool Wait(int fd, int ms);

  const std::string url_;
  const std::string origin_;  // this process's payload: its own announcements are skipped
  const int wake_;            // eventfd the destructor signals, so the listener stops at once
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable changed_;
  std::thread thread_;
};

}  // namespace provgate::store::postgres
