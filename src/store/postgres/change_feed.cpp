#include "store/postgres/change_feed.hpp"

#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include "crypto/random.hpp"

namespace provgate::store::postgres {
namespace {

constexpr const char* kListen = "LISTEN provgate_data";
// How often the listener looks at its stop flag, and waits between reconnect attempts.
constexpr int kPollMs = 100;
constexpr int kReconnectPolls = 10;

}  // namespace

Result<std::unique_ptr<ChangeFeed>> ChangeFeed::Start(const std::string& url) {
  const auto id = crypto::RandomBytes(8);
  std::unique_ptr<ChangeFeed> feed(new ChangeFeed(url, crypto::HexEncode(id.data(), id.size())));
  PG_TRY(Connection conn, Connection::Open(url));
  PG_TRY_STATUS(conn.ExecScript(kListen));
  feed->thread_ = std::thread([raw = feed.get(), c = std::move(conn)]() mutable { raw->Listen(std::move(c)); });
  return feed;
}

ChangeFeed::~ChangeFeed() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ChangeFeed::Bump() {
  {
    std::lock_guard lock(mu_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  changed_.notify_all();
}

void ChangeFeed::Announce(Pool& pool) {
  Bump();
  auto db = pool.Acquire();
  auto sent =
      db ? (*db)->Run("SELECT pg_notify('provgate_data', $1)", Params().BindText(1, origin_)) : Status(db.error());
  if (!sent) spdlog::warn("could not announce a store change to other provgate nodes: {}", sent.error().message);
}

bool ChangeFeed::WaitBeyond(std::uint64_t seen, std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, limit, [&] { return Load() != seen; });
}

void ChangeFeed::Listen(Connection conn) {
  pthread_setname_np(pthread_self(), "pg-changes");
  for (;;) {
    Drain(conn);
    if (stop_.load()) return;
    // Lost: whatever was announced meanwhile is unknown, so every cache must re-read.
    Bump();
    auto again = Reconnect();
    if (!again) return;  // stopping
    conn = std::move(*again);
  }
}

void ChangeFeed::Drain(Connection& conn) {
  while (!stop_.load()) {
    pollfd fd{.fd = conn.Socket(), .events = POLLIN, .revents = 0};
    if (::poll(&fd, 1, kPollMs) < 0) continue;
    auto payloads = conn.TakeNotifications();
    if (!payloads) {
      spdlog::warn("{}; reconnecting", payloads.error().message);
      return;
    }
    for (const auto& origin : *payloads) {
      if (origin != origin_) {
        Bump();
        break;
      }
    }
  }
}

Result<Connection> ChangeFeed::Reconnect() {
  for (;;) {
    for (int i = 0; i < kReconnectPolls; ++i) {
      if (stop_.load()) return Error::Unavailable("stopping");
      ::poll(nullptr, 0, kPollMs);
    }
    auto conn = Connection::Open(url_);
    if (conn && conn->ExecScript(kListen)) {
      Bump();  // announcements between the loss and the LISTEN are unknown
      return std::move(*conn);
    }
  }
}

}  // namespace provgate::store::postgres
