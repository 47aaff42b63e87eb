#include "store/postgres/change_feed.hpp"

#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "crypto/random.hpp"

namespace provgate::store::postgres {
namespace {

constexpr const char* kListen = "LISTEN provgate_data";
// How long the listener waits between reconnect attempts.
constexpr int kReconnectMs = 1000;

}  // namespace

Result<Connection> ChangeFeed::Connect(const std::string& url, const Timing& timing) {
  // A connection attempt that hangs (a server or path gone silent) ends, so that the feed
  // keeps trying and its destructor does not wait for the kernel.
  // TCP keepalives and a user timeout also end a statement (LISTEN, the schema query) whose
  // answer a vanished path would never bring.
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(timing.answer_within);
  return Connection::Open(url, {{"connect_timeout", std::to_string(std::max<std::int64_t>(2, seconds.count()))},
                                {"keepalives_idle", "5"},
                                {"keepalives_interval", "2"},
                                {"keepalives_count", "2"},
                                {"tcp_user_timeout", std::to_string(timing.answer_within.count())}});
}

Result<std::unique_ptr<ChangeFeed>> ChangeFeed::Start(const std::string& url) { return Start(url, Timing{}); }

Result<std::unique_ptr<ChangeFeed>> ChangeFeed::Start(const std::string& url, Timing timing) {
  PG_TRY(Connection conn, Connect(url, timing));
  const int wake = ::eventfd(0, EFD_CLOEXEC);
  if (wake < 0) return Error::Internal(std::string("eventfd: ") + std::strerror(errno));
  const auto id = crypto::RandomBytes(8);
  // The schema of the tables this store reads, as the search path resolves them: the
  // triggers name it in each payload.
  PG_TRY(Rows schema,
         conn.Exec("SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'devices'::regclass"));
  if (schema.empty() || schema[0].IsNull(0)) return Error::FailedPrecondition("PostgreSQL: table devices not found");
  std::unique_ptr<ChangeFeed> feed(
      new ChangeFeed(url, timing, crypto::HexEncode(id.data(), id.size()), schema[0].Text(0), wake));
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

ChangeFeed::Woken ChangeFeed::Wait(int fd, int ms) {
  pollfd fds[2] = {{.fd = wake_, .events = POLLIN, .revents = 0}, {.fd = fd, .events = POLLIN, .revents = 0}};
  const int ready = ::poll(fds, fd < 0 ? 1 : 2, ms);
  if (stop_.load()) return Woken::kStopping;
  return ready == 0 ? Woken::kTimedOut : Woken::kReadable;
}

// "<origin> <schema> <kind> <id>": the origin has no space (hex, or "-"), a schema may.
std::optional<ChangeFeed::Payload> ChangeFeed::Parse(std::string_view payload) {
  const size_t first = payload.find(' ');
  const size_t last = payload.rfind(' ');
  if (first == std::string_view::npos || last <= first) return std::nullopt;
  const size_t kind_at = payload.rfind(' ', last - 1);
  if (kind_at <= first) return std::nullopt;
  Payload p;
  p.origin = payload.substr(0, first);
  p.schema = payload.substr(first + 1, kind_at - first - 1);
  const std::string_view kind = payload.substr(kind_at + 1, last - kind_at - 1);
  const std::string_view id = payload.substr(last + 1);
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), p.id);
  if (ec != std::errc() || end != id.data() + id.size() || p.schema.empty()) return std::nullopt;
  if (kind == "d") {
    p.key = ChangedKey::Device(p.id);
  } else if (kind == "t") {
    p.key = ChangedKey::Tenant(p.id);
  } else if (kind != "*") {
    return std::nullopt;
  }
  return p;
}

void ChangeFeed::Take(std::string_view payload) {
  const auto p = Parse(payload);
  if (!p) {
    log_.Record(std::nullopt);  // an older provgate's announcement, or one we cannot read
    return;
  }
  if (p->origin == origin_ || p->schema != schema_) return;
  log_.Record(p->key);
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
  const int quiet_ms = static_cast<int>(timing_.ping_after_quiet.count());
  for (Woken w = Wait(conn.Socket(), quiet_ms); w != Woken::kStopping; w = Wait(conn.Socket(), quiet_ms)) {
    // Nothing heard for a while: a connection whose server or network path vanished
    // without closing it would leave this node deaf to every other node's writes until the
    // kernel gives up on it, hours later.
    if (w == Woken::kTimedOut) {
      if (auto alive = conn.Ping(timing_.answer_within); !alive) {
        spdlog::warn("{}; reconnecting the change listener", alive.error().message);
        return;
      }
    }
    auto payloads = conn.TakeNotifications();
    if (!payloads) {
      spdlog::warn("{}; reconnecting", payloads.error().message);
      return;
    }
    for (const auto& payload : *payloads) Take(payload);
  }
}

Result<Connection> ChangeFeed::Reconnect() {
  for (int attempt = 0;; ++attempt) {
    if (Wait(-1, kReconnectMs) == Woken::kStopping) return Error::Unavailable("stopping");
    auto conn = Connect(url_, timing_);
    Status listening = conn ? conn->ExecScript(kListen) : Status(conn.error());
    if (listening) {
      log_.Record(std::nullopt);  // announcements between the loss and the LISTEN are unknown
      spdlog::info("change listener connected again after {} attempts", attempt + 1);
      return std::move(*conn);
    }
    // Each attempt counts as a change of anything (Listen), so meanwhile the caches read
    // the store: the operator hears why, once a minute.
    if (attempt % 60 == 0) {
      spdlog::warn("change listener: reconnecting failed ({} attempts so far): {}", attempt + 1,
                   listening.error().message);
    }
  }
}

}  // namespace provgate::store::postgres
