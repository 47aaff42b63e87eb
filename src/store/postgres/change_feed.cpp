#include "store/postgres/change_feed.hpp"

#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/random.hpp"

namespace provgate::store::postgres {
namespace {

constexpr const char* kListen = "LISTEN provgate_data";
// How long the listener waits between reconnect attempts.
constexpr int kReconnectMs = 1000;

}  // namespace

Result<std::unique_ptr<ChangeFeed>> ChangeFeed::Start(const std::string& url) {
  PG_TRY(Connection conn, Connection::Open(url));
  const int wake = ::eventfd(0, EFD_CLOEXEC);
  if (wake < 0) return Error::Internal(std::string("eventfd: ") + std::strerror(errno));
  const auto id = crypto::RandomBytes(8);
  std::unique_ptr<ChangeFeed> feed(new ChangeFeed(url, crypto::HexEncode(id.data(), id.size()), wake));
  PG_TRY_STATUS(conn.ExecScript(kListen));
  feed->thread_ = std::thread([raw = feed.get(), c = std::move(conn)]() mutable { raw->Listen(std::move(c)); });
  return feed;
}

ChangeFeed::~ChangeFeed() {
  stop_.store(true);
  const std::uint64_t one = 1;
  (void)!::write(wake_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::close(wake_);
}

bool ChangeFeed::Wait(int fd, int ms) {
  pollfd fds[2] = {{.fd = wake_, .events = POLLIN, .revents = 0}, {.fd = fd, .events = POLLIN, .revents = 0}};
  (void)::poll(fds, fd < 0 ? 1 : 2, ms);
  return !stop_.load();
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
  while (Wait(conn.Socket(), -1)) {
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
    if (!Wait(-1, kReconnectMs)) return Error::Unavailable("stopping");
    auto conn = Connection::Open(url_);
    if (conn && conn->ExecScript(kListen)) {
      Bump();  // announcements between the loss and the LISTEN are unknown
      return std::move(*conn);
    }
  }
}

}  // namespace provgate::store::postgres
