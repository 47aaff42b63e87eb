#include "api/admin_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "http/device_socket.hpp"
#include "tls/ossl_handles.hpp"

namespace provgate::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;

struct AdminListener::State {
  State(asio::io_context& io, AdminListenerConfig cfg, Api& a, audit::AuditLog& log, const Clock& c,
        std::shared_ptr<asio::ssl::context> ctx)
      : ioc(io), config(std::move(cfg)), api(a), audit(log), clock(c), ssl_ctx(std::move(ctx)),
        acceptor(io), sweep_timer(io) {}

  asio::io_context& ioc;
  AdminListenerConfig config;
  Api& api;
  audit::AuditLog& audit;
  const Clock& clock;
  std::shared_ptr<asio::ssl::context> ssl_ctx;
  tcp::acceptor acceptor;
  http::DeviceSocketList sockets;
  asio::steady_timer sweep_timer;
  std::atomic<std::uint32_t> open{0};
  std::atomic<bool> stopped{false};
};

namespace {

void AuditTransport(AdminListener::State& s, const tcp::endpoint& peer, std::string reason, int status) {
  audit::AuditRecord r;
  r.time = s.clock.Now();
  r.kind = "tls";
  r.listener = s.config.name;
  r.peer = peer.address().to_string() + ":" + std::to_string(peer.port());
  r.decision = "deny";
  r.reason = std::move(reason);
  r.status = status;
  s.audit.Submit(std::move(r), audit::Durability::kBuffered, std::nullopt, [](const Status& st) {
    if (!st) spdlog::error("audit write failed: {}", st.error().message);
  });
}

// Every field of `name`, one entry per field line.
template <class Fields>
std::vector<std::string> AllLines(const Fields& fields, bhttp::field name) {
  std::vector<std::string> out;
  for (auto [it, end] = fields.equal_range(name); it != end; ++it) out.emplace_back(it->value());
  return out;
}

// The head and body of a response, with the headers every admin response carries.
void QueueApiResponse(http::DeviceSocket& socket, const ApiResponse& r, bool head, unsigned version,
                      bool keep_alive) {
  const auto status = static_cast<bhttp::status>(r.status);
  std::string out = fmt::format("HTTP/1.{} {} {}\r\n", version == 10 ? 0 : 1, r.status,
                                std::string_view(bhttp::obsolete_reason(status)));
  if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
  out +=
      "Cache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
      "Strict-Transport-Security: max-age=63072000\r\n"
      "Referrer-Policy: no-referrer\r\n"
      "X-Frame-Options: DENY\r\n"
      "Cross-Origin-Resource-Policy: same-origin\r\n";
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  if (version == 10 && keep_alive) out += "Connection: keep-alive\r\n";
  if (version != 10 && !keep_alive) out += "Connection: close\r\n";
  const bool may_have_body = r.status >= 200 && r.status != 204 && r.status != 304;
  if (may_have_body) out += fmt::format("Content-Length: {}\r\n", r.body.size());
  out += "\r\n";
  socket.Queue(out);
  if (!head && may_have_body) socket.Queue(r.body);
}

void QueueError(http::DeviceSocket& socket, int status, std::string detail) {
  QueueApiResponse(socket, ToResponse(Problem{status, std::move(detail), {}}), false, 11, false);
}

awaitable<bool> ServeRequests(AdminListener::State& s, http::DeviceSocket& socket, const tcp::endpoint& peer) {
  const std::string peer_ip = peer.address().to_string();
  const auto body_limit = std::max<std::uint64_t>(s.config.api.max_json_bytes, s.config.api.max_import_bytes);
  for (std::uint32_t n = 0;; ++n) {
    http::DeviceSocket::RequestParser parser;
    parser.header_limit(s.config.max_header_bytes);
    parser.body_limit(body_limit);
    socket.ExpiresAfter(n == 0 ? s.config.request_timeout : s.config.idle_timeout + s.config.request_timeout);
    const auto ec = co_await socket.ReadRequest(parser, s.config.max_header_bytes);
    if (ec == bhttp::error::end_of_stream || ec == asio::ssl::error::stream_truncated ||
        (ec == beast::error::timeout && n > 0 && !parser.got_some() && socket.input().empty())) {
      co_return false;
    }
    if (ec) {
      int status = 400;
      if (ec == bhttp::error::header_limit) status = 431;
      if (ec == bhttp::error::body_limit) status = 413;
      if (ec == beast::error::timeout) status = 408;
      AuditTransport(s, peer, "malformed admin request: " + ec.message(), status);
      if (ec.category() != asio::error::get_ssl_category()) {
        QueueError(socket, status, status == 413 ? "the body is too large" : "malformed request");
        co_return true;
      }
      co_return false;
    }
    auto& req = parser.get();
    ApiRequest ar;
    ar.method = std::string(req.method_string());
    ar.target = std::string(req.target());
    ar.authorization = AllLines(req, bhttp::field::authorization);
    ar.origin = AllLines(req, bhttp::field::origin);
    ar.content_type = std::string(req[bhttp::field::content_type]);
    ar.body = std::move(req.body());
    ar.peer_ip = peer_ip;
    ar.listener = s.config.name;
    const bool head = req.method() == bhttp::verb::head;
    if (head) ar.method = "GET";  // answered as GET without a body; no GET changes state
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    const ApiResponse response = s.api.Handle(ar);
    if (n == 0 && socket.ssl() != nullptr) tls::QueueSessionTicket(socket.ssl());
    QueueApiResponse(socket, response, head, version, keep_alive);
    if (!keep_alive) co_return false;
    socket.ExpiresAfter(s.config.request_timeout);
    if (co_await socket.Flush()) co_return false;
  }
}

awaitable<void> RunSession(std::shared_ptr<AdminListener::State> state, tcp::socket accepted) {
  AdminListener::State& s = *state;
  struct OpenCount {
    std::atomic<std::uint32_t>& n;
    ~OpenCount() { --n; }
  } counted{s.open};
  boost::system::error_code ep_ec;
  const tcp::endpoint peer = accepted.remote_endpoint(ep_ec);
  if (ep_ec) co_return;
  accepted.set_option(tcp::no_delay(true), ep_ec);
  http::DeviceSocket socket(std::move(accepted));
  s.sockets.push_back(socket);
  if (!socket.StartTls(s.ssl_ctx->native_handle())) co_return;
  socket.ExpiresAfter(s.config.handshake_timeout);
  if (const auto hs = co_await socket.Handshake()) {
    const auto vf = tls::GetVerifyFailure(socket.ssl());
    AuditTransport(s, peer, "admin tls handshake failed: " + (vf.reason.empty() ? hs.message() : vf.reason), 0);
    co_return;
  }
  const bool unread = co_await ServeRequests(s, socket, peer);
  socket.QueueCloseNotify();
  socket.ExpiresAfter(s.config.request_timeout);
  if (co_await socket.Flush()) co_return;
  if (unread || socket.HasUnreadInput()) co_await socket.Linger(std::chrono::milliseconds(2000));
}

awaitable<void> SweepLoop(std::shared_ptr<AdminListener::State> state) {
  while (!state->stopped || !state->sockets.empty()) {
    state->sweep_timer.expires_after(std::chrono::milliseconds(250));
    auto [ec] = co_await state->sweep_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    const auto now = http::DeviceSocket::Clock::now();
    for (auto& socket : state->sockets) socket.ExpireIfDue(now);
  }
}

awaitable<void> AcceptLoop(std::shared_ptr<AdminListener::State> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (state->stopped) co_return;
    if (ec) {
      spdlog::warn("admin listener {}: accept failed: {}", state->config.name, ec.message());
      continue;
    }
    if (state->open.load() >= state->config.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);  // over the cap: the operator's tools retry
      continue;
    }
    ++state->open;
    auto executor = socket.get_executor();
    asio::co_spawn(executor, RunSession(state, std::move(socket)), asio::detached);
  }
}

}  // namespace

Result<std::unique_ptr<AdminListener>> AdminListener::Create(asio::io_context& ioc, const AdminListenerConfig& config,
                                                             Api& api, audit::AuditLog& audit, const Clock& clock) {
  PG_TRY(auto ctx, tls::MakeServerContext(config.tls));
  auto state = std::make_shared<State>(ioc, config, api, audit, clock, std::move(ctx));
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(config.bind, ec);
  if (ec) return Error::InvalidArgument("admin listener " + config.name + ": bad bind address '" + config.bind + "'");
  const tcp::endpoint endpoint(address, config.port);
  auto& acc = state->acceptor;
  if (acc.open(endpoint.protocol(), ec) || acc.set_option(asio::socket_base::reuse_address(true), ec) ||
      acc.bind(endpoint, ec) || acc.listen(asio::socket_base::max_listen_connections, ec)) {
    return Error::Unavailable(fmt::format("admin listener {}: cannot listen on {}:{}: {}", config.name, config.bind,
                                          config.port, ec.message()));
  }
  return std::unique_ptr<AdminListener>(new AdminListener(std::move(state)));
}

AdminListener::~AdminListener() { Stop(); }

void AdminListener::Start() {
  asio::co_spawn(state_->acceptor.get_executor(), AcceptLoop(state_), asio::detached);
  asio::co_spawn(state_->acceptor.get_executor(), SweepLoop(state_), asio::detached);
}

void AdminListener::Stop() {
  if (state_->stopped.exchange(true)) return;
  asio::post(state_->acceptor.get_executor(), [s = state_] {
    boost::system::error_code ec;
    s->acceptor.close(ec);
  });
}

std::uint16_t AdminListener::port() const {
  boost::system::error_code ec;
  return state_->acceptor.local_endpoint(ec).port();
}

const std::string& AdminListener::name() const { return state_->config.name; }

}  // namespace provgate::api
