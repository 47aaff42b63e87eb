#include "http/listener.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory_resource>
#include <span>
#include <tuple>

#include "http/commit_wait.hpp"
#include "http/device_socket.hpp"
#include "http/peer.hpp"
#include "http/request_framing.hpp"
#include "http/response.hpp"
#include "net/ip_address.hpp"
#include "net/proxy_protocol.hpp"
#include "tls/ossl_handles.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace provgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// How long a connection closed with input still arriving keeps reading it (DeviceSocket::Linger).
constexpr std::chrono::milliseconds kLingerLimit{2000};
// How long the accept loop waits after a failed accept (out of descriptors, ...).
constexpr std::chrono::milliseconds kAcceptBackoff{100};

struct Listener::State {
  State(asio::io_context& io, ListenerConfig cfg, std::vector<tls::MacRule> r, pipeline::Pipeline& p,
        audit::AuditLog& a, const Clock& c, std::shared_ptr<asio::ssl::context> ctx, pipeline::ListenerMetrics& m)
      : ioc(io),
        config(std::move(cfg)),
        rules(std::move(r)),
        pipeline(p),
        audit(a),
        clock(c),
        ssl_ctx(std::move(ctx)),
        metrics(m),
        acceptor(io),
        sweep_timer(io) {}

  asio::io_context& ioc;
  ListenerConfig config;
  std::vector<tls::MacRule> rules;
  pipeline::Pipeline& pipeline;
  audit::AuditLog& audit;
  const Clock& clock;
  std::shared_ptr<asio::ssl::context> ssl_ctx;
  pipeline::ListenerMetrics& metrics;  // shared by the acceptors of all serving threads
  tcp::acceptor acceptor;
  DeviceSocketList sockets;  // open connections, for the deadline sweep
  asio::steady_timer sweep_timer;
  net::IpSet proxy_peers;  // PROXY protocol honoured only from these
  std::atomic<bool> stopped{false};
  // Open connections of the listener, shared by the acceptors of all serving threads.
  std::shared_ptr<std::atomic<std::uint32_t>> open_connections = std::make_shared<std::atomic<std::uint32_t>>(0);
  asio::steady_timer backoff_timer{ioc};
};

namespace {

// Counts a connection open for as long as it lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<std::atomic<std::uint32_t>> count) : count_(std::move(count)) {
    count_->fetch_add(1, std::memory_order_relaxed);
  }
  ~ConnectionSlot() { count_->fetch_sub(1, std::memory_order_relaxed); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<std::atomic<std::uint32_t>> count_;
};

// Records a connection that never reached the pipeline. There is no response to hold back,
// so the serving thread does not wait for the commit.
// `base.peer` is the client: the socket's peer, or what a trusted PROXY header said.
void AuditTransportFailure(Listener::State& s, const pipeline::DeviceRequest& base, const char* kind,
                           std::string reason, const std::string& subject, int status) {
  audit::AuditRecord r;
  r.time = s.clock.Now();
  r.kind = kind;
  r.listener = s.config.name;
  r.peer = base.peer.ToEndpointString(base.peer_port);
  r.decision = "deny";
  r.reason = std::move(reason);
  audit::AssignClientText(r.cert_subject, subject);
  r.status = status;
  s.audit.Submit(std::move(r), audit::Durability::kDurable, std::nullopt, [](const Status& st) {
    if (!st) spdlog::error("audit write failed: {}", st.error().message);
  });
}

// Fills the identity fields of a request from the verified peer certificate, if any.
void IdentifyPeer(Listener::State& s, SSL* ssl, pipeline::DeviceRequest& req) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return;
  auto identity = tls::PeerIdentity(ssl, s.rules, ToUnix(s.clock.Now()));
  if (identity) {
    req.cert = std::move(*identity);
  } else {
    req.cert_subject = tls::SubjectOneLine(cert);
    req.cert_problem = identity.error().code == ErrorCode::kNotFound ? std::string(pipeline::kCertProblemNoMac)
                                                                     : identity.error().message;
  }
}

// Every line of field `name`, in order, joined with "," (RFC 9110 §5.3): a proxy that appends
// its own line (HAProxy's `option forwardfor`) leaves the client's line first, so reading only
// the first line would let the client choose its address. Reuses `out`'s memory.
template <class Fields>
void AssignAllLines(std::string& out, const Fields& fields, std::string_view name) {
  out.clear();
  bool first = true;
  for (auto [it, end] = fields.equal_range(name); it != end; ++it) {
    if (!first) out.push_back(',');
    out.append(it->value());
    first = false;
  }
}

void QueueError(DeviceSocket& socket, bhttp::status status) {
  const auto code = static_cast<int>(status);
  const pipeline::DeviceResponse pr{code, "text/plain; charset=utf-8",
                                    std::to_string(code) + " " + std::string(bhttp::obsolete_reason(status)) + "\n"};
  QueueResponse(socket, pr, false, 11, false);
}

// Serves HTTP requests on an established connection (TLS or, on plain listeners, TCP). The
// last response stays queued: the caller sends it with the close_notify, one TCP write.
// True when reading stopped inside a request, so the client may still be sending.
awaitable<bool> ServeRequests(Listener::State& s, DeviceSocket& socket, const pipeline::DeviceRequest& base,
                              audit::CommitSibling& sibling) {
  // Kept across the connection's requests, so a keep-alive request reuses their memory: the
  // request's fields (assigned, not copied from `base` each time), its outcome (response
  // body and audit record) and the arena the parser keeps the header fields in.
  pipeline::DeviceRequest dr = base;
  pipeline::Outcome outcome;
  CommitPostMemory commit_memory;
  std::array<std::byte, 2048> arena_memory;
  std::pmr::monotonic_buffer_resource arena(arena_memory.data(), arena_memory.size());
  for (std::uint32_t n = 0; n < s.config.limits.max_requests_per_connection; ++n) {
    arena.release();  // the previous request's parser is gone
    DeviceSocket::RequestParser parser(std::piecewise_construct, std::make_tuple(),
                                       std::make_tuple(FieldsAllocator(&arena)));
    parser.header_limit(s.config.limits.max_header_bytes);
    parser.body_limit(s.config.limits.max_body_bytes);
    socket.ExpiresAfter(n == 0 ? s.config.limits.header_timeout : s.config.limits.idle_timeout);
    const auto rd_ec = co_await socket.ReadRequest(parser, s.config.limits.max_header_bytes);
    if (rd_ec == bhttp::error::end_of_stream || rd_ec == asio::ssl::error::stream_truncated ||
        (rd_ec == beast::error::timeout && n > 0 && !parser.got_some() && socket.input().empty())) {
      break;  // the client closed or went idle between requests: normal end
    }
    if (rd_ec) {
      bhttp::status status = bhttp::status::bad_request;
      if (rd_ec == bhttp::error::header_limit) status = bhttp::status::request_header_fields_too_large;
      if (rd_ec == bhttp::error::body_limit) status = bhttp::status::payload_too_large;
      if (rd_ec == beast::error::timeout) status = bhttp::status::request_timeout;
      AuditTransportFailure(s, base, "request", "malformed request: " + rd_ec.message(),
                            base.cert ? base.cert->subject : base.cert_subject, static_cast<int>(status));
      // A broken TLS record ends the session (OpenSSL queued its alert); no HTTP answer.
      if (rd_ec != beast::error::timeout && rd_ec.category() != asio::error::get_ssl_category()) {
        QueueError(socket, status);
        co_return true;
      }
      break;
    }
    const auto& req = parser.get();
    // Two Authorization lines cannot be one credential; which one a proxy or we would pick
    // is a guess an attacker could steer.
    const char* malformed = RefusedFraming(req);
    if (malformed == nullptr && req.count(bhttp::field::authorization) > 1) malformed = "repeated Authorization field";
    if (malformed != nullptr) {
      AuditTransportFailure(s, base, "request", std::string("malformed request: ") + malformed,
                            base.cert ? base.cert->subject : base.cert_subject, 400);
      QueueError(socket, bhttp::status::bad_request);
      co_return true;
    }
    dr.method.assign(req.method_string());
    dr.target.assign(req.target());
    dr.user_agent.assign(req[bhttp::field::user_agent]);
    dr.authorization.assign(req[bhttp::field::authorization]);
    AssignAllLines(dr.forwarded, req, "Forwarded");
    AssignAllLines(dr.x_forwarded_for, req, "X-Forwarded-For");
    if (req.method() == bhttp::verb::put) {
      dr.body = req.body();
    } else {
      dr.body.clear();
    }
    dr.received = s.clock.Now();
    const auto read_at = std::chrono::steady_clock::now();
    const bool keep_alive = req.keep_alive() && n + 1 < s.config.limits.max_requests_per_connection;
    s.pipeline.Evaluate(dr, outcome);
    // Before the commit, which hands back a cleared record.
    const pipeline::RequestSample sample = s.metrics.Classify(outcome.record, outcome.refusal, outcome.vendor);
    // A response that releases nothing and changed nothing leaves without waiting for the
    // disk, unless so much waits for the disk that the queue must stop growing.
    Status committed = Ok();
    if (outcome.durability == audit::Durability::kWindowed && !s.audit.backlogged()) {
      SubmitOutcome(s.audit, outcome, {});
    } else {
      committed = co_await AsyncCommit(s.audit, outcome, sibling, commit_memory, asio::use_awaitable);
      if (keep_alive) sibling.Hold();  // the client may send another request
    }
    const auto& pr = s.pipeline.Respond(outcome, committed);

    // The TLS 1.3 ticket leaves with the first response instead of a write of its own.
    if (n == 0 && socket.ssl() != nullptr) tls::QueueSessionTicket(socket.ssl());
    QueueResponse(socket, pr, req.method() == bhttp::verb::head, req.version(), keep_alive);
    s.metrics.Count(sample, static_cast<bool>(committed), std::chrono::steady_clock::now() - read_at);
    if (!keep_alive) break;
    socket.ExpiresAfter(s.config.limits.header_timeout);
    DeviceSocket::error_code flushed;
    if (!socket.FlushNow(flushed)) flushed = co_await socket.Flush();
    if (flushed) break;
  }
  co_return false;
}

// Reads a PROXY protocol header and leaves the bytes after it in the socket's input; false
// (connection to be closed, already audited) when the peer is not a trusted proxy or the
// header is bad.
awaitable<bool> ReadProxyHeader(Listener::State& s, DeviceSocket& socket, pipeline::DeviceRequest& base) {
  if (!s.proxy_peers.Contains(base.peer)) {
    AuditTransportFailure(s, base, "tls", "proxy protocol from an untrusted peer", "", 0);
    co_return false;
  }
  socket.ExpiresAfter(s.config.limits.handshake_timeout);
  std::string& in = socket.input();
  for (;;) {
    if (auto ec = co_await socket.ReadRaw()) co_return false;
    const size_t window = std::min(in.size(), net::kMaxProxyV2Bytes);
    auto parsed =
        net::ParseProxyHeader(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(in.data()), window));
    if (!parsed) break;
    if (!*parsed) {
      if (window == net::kMaxProxyV2Bytes) break;  // no header fits
      continue;
    }
    if ((*parsed)->has_source) {
      base.peer = (*parsed)->source;
      base.peer_port = (*parsed)->source_port;
    }
    in.erase(0, (*parsed)->consumed);
    co_return true;
  }
  AuditTransportFailure(s, base, "tls", "malformed proxy protocol header", "", 0);
  co_return false;
}

awaitable<void> RunSession(std::shared_ptr<Listener::State> state, tcp::socket accepted) {
  Listener::State& s = *state;
  const ConnectionSlot slot(s.open_connections);
  boost::system::error_code ep_ec;
  const tcp::endpoint peer = accepted.remote_endpoint(ep_ec);
  if (ep_ec) co_return;
  // TLS flights and responses are small writes in a row; with Nagle each waits for the
  // client's delayed ACK (40 ms on Linux) of the one before.
  accepted.set_option(tcp::no_delay(true), ep_ec);
  DeviceSocket socket(std::move(accepted));
  s.sockets.push_back(socket);            // for the deadline sweep, until the socket is destroyed
  audit::CommitSibling sibling(s.audit);  // until the connection has submitted its record
  pipeline::DeviceRequest base;
  base.listener = s.config.name;
  base.peer = PeerAddress(peer);
  base.peer_port = peer.port();
  base.methods = s.config.methods;

  if (!s.proxy_peers.empty() && !co_await ReadProxyHeader(s, socket, base)) co_return;

  if (s.config.plain_http) {
    base.tls = false;
  } else {
    if (!socket.StartTls(s.ssl_ctx->native_handle())) {
      s.metrics.CountHandshakeFailure(tls::HandshakeFailure::kOther);
      AuditTransportFailure(s, base, "tls", "tls handshake failed: " + tls::ossl::DrainErrors(), "", 0);
      co_return;
    }
    socket.ExpiresAfter(s.config.limits.handshake_timeout);
    if (const auto hs_ec = co_await socket.Handshake()) {
      const auto vf = tls::GetVerifyFailure(socket.ssl());
      std::string reason = "tls handshake failed: ";
      reason += vf.reason.empty() ? hs_ec.message() : vf.reason;
      AuditTransportFailure(s, base, "tls", std::move(reason), vf.subject, 0);
      // A certificate that failed verification (untrusted, expired, revoked), or none where
      // one is required, is a failed authentication of its source. Other failures (a bare
      // connect and close, a protocol mismatch, a health check) prove nothing and do not
      // count: anyone behind a shared address could otherwise get it banned.
      const int ssl_reason = hs_ec.category() == asio::error::get_ssl_category()
                                 ? ERR_GET_REASON(static_cast<unsigned long>(hs_ec.value()))
                                 : 0;
      const bool no_certificate = ssl_reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
      s.metrics.CountHandshakeFailure(tls::ClassifyHandshakeFailure(vf, ssl_reason));
      if (!vf.reason.empty() || no_certificate) {
        s.pipeline.RecordHandshakeFailure(base.peer, s.config.name, base.peer.ToEndpointString(base.peer_port));
      }
      co_return;
    }
    IdentifyPeer(s, socket.ssl(), base);
  }
  const bool unread = co_await ServeRequests(s, socket, base, sibling);
  sibling.Release();  // this connection adds no more records to a batch
  // The last response (or error) and the close_notify, in one write.
  socket.QueueCloseNotify();
  socket.ExpiresAfter(s.config.limits.header_timeout);
  if (co_await socket.Flush()) co_return;
  if (unread || socket.HasUnreadInput()) {
    co_await socket.Linger(kLingerLimit);
  } else if (s.config.plain_http) {
    socket.socket().shutdown(tcp::socket::shutdown_send, ep_ec);
  }
}

// Ends the waits of connections past their deadline, a few times per shortest timeout.
awaitable<void> SweepLoop(std::shared_ptr<Listener::State> state) {
  const auto& lim = state->config.limits;
  const auto shortest = std::min({lim.handshake_timeout, lim.header_timeout, lim.idle_timeout});
  const auto period = std::clamp<std::chrono::milliseconds>(shortest / 4, std::chrono::milliseconds(10),
                                                            std::chrono::milliseconds(250));
  // After Stop the open connections still end at their deadlines.
  while (!state->stopped || !state->sockets.empty()) {
    state->sweep_timer.expires_after(period);
    auto [ec] = co_await state->sweep_timer.async_wait(kTuple);
    if (ec) co_return;
    const auto now = DeviceSocket::Clock::now();
    for (auto& socket : state->sockets) socket.ExpireIfDue(now);
  }
}

awaitable<void> AcceptLoop(std::shared_ptr<Listener::State> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(kTuple);
    if (state->stopped) co_return;
    if (ec) {
      // EMFILE and friends: keep serving the connections we have, and wait before the next
      // accept instead of spinning on a descriptor table that is still full.
      spdlog::warn("listener {}: accept failed: {}; retrying in {} ms", state->config.name, ec.message(),
                   kAcceptBackoff.count());
      state->backoff_timer.expires_after(kAcceptBackoff);
      co_await state->backoff_timer.async_wait(kTuple);
      continue;
    }
    if (state->open_connections->load(std::memory_order_relaxed) >= state->config.limits.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, RunSession(state, std::move(socket)), asio::detached);
  }
}

enum class PortUse { kFirst, kShared };

// Opens, binds (SO_REUSEPORT, so every serving thread can have its own acceptor on the
// port) and listens. SO_REUSEPORT would also let a second provgate share a port that is
// already served, so the first acceptor of a port first proves it free with a plain bind.
Status Bind(Listener::State& s, PortUse use) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(s.config.bind, ec);
  if (ec) {
    return Error::InvalidArgument("listener " + s.config.name + ": bad bind address '" + s.config.bind + "'");
  }
  auto failed = [&s](const boost::system::error_code& e) {
    return Error::Unavailable("listener " + s.config.name + ": cannot listen on " + s.config.bind + ":" +
                              std::to_string(s.config.port) + ": " + e.message());
  };
  tcp::endpoint endpoint(address, s.config.port);
  if (use == PortUse::kFirst) {
    tcp::acceptor probe(s.ioc);
    if (probe.open(endpoint.protocol(), ec) || probe.set_option(asio::socket_base::reuse_address(true), ec) ||
        probe.bind(endpoint, ec)) {
      return failed(ec);
    }
    endpoint = probe.local_endpoint(ec);  // the port the kernel chose when configured as 0
    if (ec) return failed(ec);
  }
  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  auto& acc = s.acceptor;
  if (acc.open(endpoint.protocol(), ec) || acc.set_option(asio::socket_base::reuse_address(true), ec) ||
      acc.set_option(reuse_port(true), ec) || acc.bind(endpoint, ec) ||
      acc.listen(asio::socket_base::max_listen_connections, ec)) {
    return failed(ec);
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<Listener>> Listener::Create(asio::io_context& ioc, const ListenerConfig& config,
                                                   std::vector<tls::MacRule> mac_rules, pipeline::Pipeline& pipeline,
                                                   audit::AuditLog& audit, const Clock& clock,
                                                   pipeline::ListenerMetrics& metrics) {
  std::shared_ptr<asio::ssl::context> ctx;
  if (!config.plain_http) {
    PG_TRY(ctx, tls::MakeServerContext(config.tls));
  }
  auto state =
      std::make_shared<State>(ioc, config, std::move(mac_rules), pipeline, audit, clock, std::move(ctx), metrics);
  if (!config.proxy_protocol_from.empty()) {
    auto peers = net::IpSet::Parse(config.proxy_protocol_from);
    if (!peers) {
      return Error::InvalidArgument("listener " + config.name + ": proxy_protocol_from: " + peers.error().message);
    }
    state->proxy_peers = *peers;
  }
  PG_TRY_STATUS(Bind(*state, PortUse::kFirst));
  return std::unique_ptr<Listener>(new Listener(std::move(state)));
}

Result<std::unique_ptr<Listener>> Listener::AddAcceptor(asio::io_context& ioc) const {
  const State& s = *state_;
  auto config = s.config;
  config.port = port();  // the port the first acceptor got, also when configured as 0
  auto state =
      std::make_shared<State>(ioc, std::move(config), s.rules, s.pipeline, s.audit, s.clock, s.ssl_ctx, s.metrics);
  state->proxy_peers = s.proxy_peers;
  state->open_connections = s.open_connections;
  PG_TRY_STATUS(Bind(*state, PortUse::kShared));
  return std::unique_ptr<Listener>(new Listener(std::move(state)));
}

Listener::~Listener() { Stop(); }

void Listener::Start() {
  asio::co_spawn(state_->acceptor.get_executor(), AcceptLoop(state_), asio::detached);
  asio::co_spawn(state_->acceptor.get_executor(), SweepLoop(state_), asio::detached);
}

void Listener::Stop() {
  if (state_->stopped.exchange(true)) return;
  asio::post(state_->acceptor.get_executor(), [s = state_] {
    boost::system::error_code ec;
    s->acceptor.close(ec);
  });
}

std::uint16_t Listener::port() const {
  boost::system::error_code ec;
  return state_->acceptor.local_endpoint(ec).port();
}

const std::string& Listener::name() const { return state_->config.name; }

}  // namespace provgate::http
