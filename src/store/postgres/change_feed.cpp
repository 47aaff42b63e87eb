#include "store/postgres/change_feed.hpp"

#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

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
  PG_TRY(Rows schema, conn.Exec("SELECT current_schema()"));
  if (schema.empty() || schema[0].IsNull(0)) return Error::FailedPrecondition("PostgreSQL: no schema is selected");
  std::unique_ptr<ChangeFeed> feed(
      new ChangeFeed(url, crypto::HexEncode(id.data(), id.size()), schema[0].Text(0), wake));
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

void ChangeFeed::Take(const std::string& payload) {
  std::istringstream in(payload);
  std::string origin;
  std::string schema;
  std::string kind;
  std::int64_t id = 0;
  if (!(in >> origin >> schema >> kind >> id) || (kind != "d" && kind != "t" && kind != "*")) {
    log_.Record(std::nullopt);  // an older provgate's announcement, or one we cannot read
    return;
  }
  if (origin == origin_ || schema != schema_) return;
  if (kind == "*") {
    log_.Record(std::nullopt);
  } else {
    log_.Record(kind == "d" ? ChangedKey::Device(id) : ChangedKey::Tenant(id));
  }
}

void ChangeFeed::Listen(Connection conn) {
  pthread_setname_np(pthread_self(), "pg-changes");
  for (;;) {
    Drain(conn);
    if (stop_.load()) return;
    // Lost: whatever was announced meanwhile is unknown, so every cache must re-read.
    log_.Record(std::nullopt);
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
    for (const auto& payload : *payloads) Take(payload);
  }
}

Result<Connection> ChangeFeed::Reconnect() {
  for (;;) {
    if (!Wait(-1, kReconnectMs)) return Error::Unavailable("stopping");
    auto conn = Connection::Open(url_);
    if (conn && conn->ExecScript(kListen)) {
      log_.Record(std::nullopt);  // announcements between the loss and the LISTEN are unknown
      return std::move(*conn);
    }
  }
}

}  // namespace provgate::store::postgres
