#include "api/admin_listener.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "http/peer.hpp"
#include "http/request_framing.hpp"
#include "tls/server_context.hpp"

namespace provgate::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;

struct AdminListener::State {
  State(asio::io_context& io, AdminListenerConfig cfg, Api& a, audit::AuditLog& log, const Clock& c,
        std::shared_ptr<asio::ssl::context> ctx, Surface* p)
      : ioc(io),
        config(std::move(cfg)),
        api(a),
        audit(log),
        clock(c),
        ssl_ctx(std::move(ctx)),
        portal(p),
        acceptor(io),
        backoff_timer(io) {}

  asio::io_context& ioc;
  AdminListenerConfig config;
  Api& api;
  audit::AuditLog& audit;
  const Clock& clock;
  std::shared_ptr<asio::ssl::context> ssl_ctx;
  Surface* portal;  // may be null
  tcp::acceptor acceptor;
  asio::steady_timer backoff_timer;  // the accept loop's wait after a failed accept
  std::atomic<std::uint32_t> open{0};
  std::atomic<bool> stopped{false};
  // Open connections per source address, for max_connections_per_source.
  std::mutex per_source_mu;
  std::unordered_map<asio::ip::address, std::uint32_t> per_source;
};

namespace {

using Stream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t kMaxDrainBytes = 8 << 20;
constexpr std::uint64_t kMaxDrainUnadmittedBytes = 1 << 20;
// How long the accept loop waits after a failed accept (out of descriptors, ...).
constexpr std::chrono::milliseconds kAcceptBackoff{100};

void AuditTransport(AdminListener::State& s, const tcp::endpoint& peer, std::string reason, int status) {
  audit::AuditRecord r;
  r.time = s.clock.Now();
  r.kind = "tls";
  r.listener = s.config.name;
  r.peer = http::PeerAddress(peer).ToEndpointString(peer.port());
  r.decision = "deny";
  r.reason = std::move(reason);
  r.status = status;
  if (auto st = s.audit.Record(std::move(r)); !st) spdlog::error("audit write failed: {}", st.error().message);
}

// Every field of `name`, one entry per field line.
template <class Fields>
std::vector<std::string> AllLines(const Fields& fields, bhttp::field name) {
  std::vector<std::string> out;
  for (auto [it, end] = fields.equal_range(name); it != end; ++it) out.emplace_back(it->value());
  return out;
}

// The head and body of a response, with the headers every admin response carries.
std::string Serialize(const ApiResponse& r, bool head, unsigned version, bool keep_alive) {
  const auto status = static_cast<bhttp::status>(r.status);
  std::string out = fmt::format("HTTP/1.{} {} {}\r\n", version == 10 ? 0 : 1, r.status,
                                std::string_view(bhttp::obsolete_reason(status)));
  if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
  out +=
      "Cache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "Strict-Transport-Security: max-age=63072000\r\n"
      "Referrer-Policy: no-referrer\r\n"
      "X-Frame-Options: DENY\r\n"
      "Cross-Origin-Resource-Policy: same-origin\r\n";
  bool own_csp = false;
  for (const auto& [name, value] : r.headers) {
    out += name + ": " + value + "\r\n";
    own_csp = own_csp || name == "Content-Security-Policy";
  }
  if (!own_csp) out += "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n";
  if (version == 10 && keep_alive) out += "Connection: keep-alive\r\n";
  if (version != 10 && !keep_alive) out += "Connection: close\r\n";
  const bool may_have_body = r.status >= 200 && r.status != 204 && r.status != 304;
  if (may_have_body && r.stream) {
    // HTTP/1.0 has no chunked encoding: the body ends with the connection (keep_alive false).
    if (version != 10) out += "Transfer-Encoding: chunked\r\n";
  } else if (may_have_body) {
    out += fmt::format("Content-Length: {}\r\n", r.body.size());
  }
  out += "\r\n";
  if (!head && may_have_body && !r.stream) out += r.body;
  return out;
}

awaitable<beast::error_code> Send(Stream& stream, const std::string& bytes) {
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(bytes), kTuple);
  (void)n;
  co_return ec;
}

// The pieces of a streamed body as they are produced, each within `timeout`: chunked (the
// last chunk after the last piece), or raw for HTTP/1.0. False when the connection must close
// now: a write failed, or the body failed after its status was sent, in which case the
// chunked body stays unterminated so that the client cannot take it for complete.
awaitable<bool> SendStream(Stream& stream, const BodyStream& body, unsigned version,
                           std::chrono::milliseconds timeout) {
  for (;;) {
    auto piece = body();
    if (!piece) {
      spdlog::error("admin API: streamed response cut: {}", piece.error().message);
      co_return false;
    }
    if (piece->empty() && version == 10) co_return true;
    const std::string size_line = fmt::format("{:x}\r\n", piece->size());
    std::array<asio::const_buffer, 3> chunk = {
        asio::buffer(size_line), asio::buffer(*piece),
        asio::buffer(piece->empty() ? "\r\n\r\n" : "\r\n", piece->empty() ? 4 : 2)};
    beast::get_lowest_layer(stream).expires_after(timeout);
    auto [ec, n] = version == 10 ? co_await asio::async_write(stream, asio::buffer(*piece), kTuple)
                                 : co_await asio::async_write(stream, chunk, kTuple);
    (void)n;
    if (ec) co_return false;
    if (piece->empty()) co_return true;
  }
}

using BodyParser = bhttp::request_parser<bhttp::buffer_body>;

// Reads the rest of the body in pieces of at most 64 KiB and hands each to `sink` as it
// arrives; the parser's body limit bounds the total.
awaitable<beast::error_code> ReadBody(Stream& stream, beast::flat_buffer& buffer, BodyParser& parser,
                                      const std::function<void(std::string_view)>& sink) {
  std::vector<char> piece(64 * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    (void)n;
    if (ec && ec != bhttp::error::need_buffer) co_return ec;
    sink(std::string_view(piece.data(), piece.size() - parser.get().body().size));
  }
  co_return beast::error_code{};
}

// One request at a time: the header first, then, only when the API admits one (an
// authenticated key, a route that takes a body, within its limit), the body. A client
// without a valid key never makes the server buffer a body.
// Reads and discards what is left of a body the server answered without reading (413, or a
// request not admitted), up to `max` bytes and two seconds, so that the client, which sends
// its whole body before it reads, gets the answer instead of a reset.
awaitable<void> DrainBody(Stream& stream, beast::flat_buffer& buffer, std::uint64_t remaining, std::uint64_t max) {
  remaining = std::min(remaining, max);
  const std::uint64_t buffered = std::min<std::uint64_t>(remaining, buffer.size());
  remaining -= buffered;
  buffer.consume(buffer.size());
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  std::array<char, 16 * 1024> scratch;
  while (remaining > 0) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), kTuple);
    if (ec) co_return;
    remaining -= std::min<std::uint64_t>(remaining, n);
  }
}

awaitable<void> ServeRequests(AdminListener::State& s, Stream& stream, const tcp::endpoint& peer) {
  const net::IpAddress peer_address = http::PeerAddress(peer);
  const std::string peer_ip = peer_address.ToString();
  const std::string peer_endpoint = peer_address.ToEndpointString(peer.port());
  beast::flat_buffer buffer(s.config.max_header_bytes);
  for (std::uint32_t n = 0;; ++n) {
    BodyParser parser;
    parser.header_limit(s.config.max_header_bytes);
    // Checked below, once the header says how large the body is and whether it is admitted.
    parser.body_limit(boost::none);
    beast::get_lowest_layer(stream).expires_after(n == 0 ? s.config.header_timeout
                                                         : s.config.idle_timeout + s.config.header_timeout);
    auto [ec, read] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    (void)read;
    if (ec == bhttp::error::end_of_stream || ec == asio::ssl::error::stream_truncated) co_return;
    if (ec == beast::error::timeout && n > 0 && buffer.size() == 0) co_return;
    int refused = 0;
    if (ec) {
      refused = ec == bhttp::error::header_limit ? 431 : ec == beast::error::timeout ? 408 : 400;
    }
    const char* malformed = ec ? nullptr : http::RefusedFraming(parser.get());
    if (!ec && malformed == nullptr && parser.get().count(bhttp::field::content_type) > 1) {
      malformed = "repeated Content-Type";  // which one describes the body would be a guess
    }
    if (malformed != nullptr) refused = 400;
    if (refused != 0) {
      AuditTransport(s, peer, "malformed admin request: " + (ec ? ec.message() : std::string(malformed)), refused);
      if (!ec || ec.category() != asio::error::get_ssl_category()) {
        // Named, not a temporary of the co_await: GCC 12 destroys such a temporary twice
        // when the coroutine returns after it (found by ASan as a double free).
        const std::string refusal = Serialize(ToResponse(Problem{refused, "malformed request", {}}), false, 11, false);
        (void)co_await Send(stream, refusal);
      }
      co_return;
    }
    const auto& head = parser.get();
    ApiRequest ar;
    ar.method = std::string(head.method_string());
    ar.target = std::string(head.target());
    ar.authorization = AllLines(head, bhttp::field::authorization);
    ar.origin = AllLines(head, bhttp::field::origin);
    ar.cookie = AllLines(head, bhttp::field::cookie);
    ar.content_type = std::string(head[bhttp::field::content_type]);
    ar.peer_ip = peer_ip;
    ar.peer = peer_endpoint;
    ar.listener = s.config.name;
    const bool is_head = head.method() == bhttp::verb::head;
    if (is_head) ar.method = "GET";  // answered as GET without a body; no GET changes state
    bool keep_alive = head.keep_alive();
    const unsigned version = head.version();
    const bool has_body = head.chunked() || (parser.content_length() && *parser.content_length() > 0);
    std::optional<ApiResponse> answer;
    bool body_unread = false;  // answered without reading (all of) the body
    auto refuse_unread = [&](ApiResponse r) {
      answer = std::move(r);
      body_unread = true;
      keep_alive = false;
    };
    Surface* surface = s.portal != nullptr && s.portal->Serves(ar.target) ? s.portal : nullptr;
    if (has_body) {
      const BodyAdmission admitted = surface ? surface->AdmitBody(ar) : s.api.AdmitBody(ar);
      std::variant<ApiResponse, std::unique_ptr<StreamedRequest>> opened;
      if (admitted.limit == 0) {
        // Not admitted: answered without reading the body, and the connection closes.
        ar.body_withheld = true;
        body_unread = true;
        keep_alive = false;
      } else if (parser.content_length() && *parser.content_length() > admitted.limit) {
        refuse_unread(ToResponse(Problem{413, "the body is larger than this route accepts", {}}));
      } else if (admitted.streamed && std::holds_alternative<ApiResponse>(opened = s.api.Open(ar))) {
        refuse_unread(std::get<ApiResponse>(std::move(opened)));  // refused on its header
      } else {
        parser.body_limit(admitted.limit);  // a chunked body is checked chunk by chunk
        beast::get_lowest_layer(stream).expires_after(s.config.request_timeout);
        auto* streamed = std::get_if<std::unique_ptr<StreamedRequest>>(&opened);
        const auto bec = co_await ReadBody(stream, buffer, parser, [&](std::string_view piece) {
          if (streamed) {
            (*streamed)->Write(piece);
          } else {
            ar.body.append(piece);
          }
        });
        if (bec == bhttp::error::body_limit) {
          refuse_unread(ToResponse(Problem{413, "the body is larger than this route accepts", {}}));
        } else if (bec) {
          AuditTransport(s, peer, "malformed admin request body: " + bec.message(), 400);
          co_return;
        } else if (streamed) {
          answer = (*streamed)->Finish();
        }
      }
    }
    const ApiResponse response = answer ? std::move(*answer) : surface ? surface->Handle(ar) : s.api.Handle(ar);
    // HTTP/1.0 has no chunked encoding: a streamed body ends with the connection.
    if (response.stream && version == 10) keep_alive = false;
    beast::get_lowest_layer(stream).expires_after(s.config.request_timeout);
    const std::string head_bytes = Serialize(response, is_head, version, keep_alive);  // named: as above
    if (co_await Send(stream, head_bytes)) co_return;
    if (response.stream && !is_head &&
        !co_await SendStream(stream, response.stream, version, s.config.request_timeout)) {
      co_return;
    }
    // A body left unread: an authenticated client may send up to kMaxDrainBytes more, anyone
    // else kMaxDrainUnadmittedBytes (bounded in time too).
    if (body_unread && parser.content_length()) {
      co_await DrainBody(stream, buffer, *parser.content_length(),
                         ar.body_withheld ? kMaxDrainUnadmittedBytes : kMaxDrainBytes);
    }
    if (!keep_alive) co_return;
  }
}

// Counts a connection against the listener's and its source's caps; false (nothing counted)
// when either is full.
bool Admit(AdminListener::State& s, const asio::ip::address& source) {
  if (s.open.load() >= s.config.max_connections) return false;
  std::lock_guard lock(s.per_source_mu);
  std::uint32_t& n = s.per_source[source];  // max_connections_per_source >= 1: a new entry fits
  if (n >= s.config.max_connections_per_source) return false;
  ++n;
  ++s.open;
  return true;
}

void Release(AdminListener::State& s, const asio::ip::address& source) {
  {
    std::lock_guard lock(s.per_source_mu);
    if (auto it = s.per_source.find(source); it != s.per_source.end() && --it->second == 0) s.per_source.erase(it);
  }
  --s.open;
}

awaitable<void> RunSession(std::shared_ptr<AdminListener::State> state, tcp::socket accepted, tcp::endpoint peer) {
  AdminListener::State& s = *state;
  struct Admitted {
    AdminListener::State& s;
    asio::ip::address source;
    ~Admitted() { Release(s, source); }
  } admitted{s, peer.address()};
  boost::system::error_code ep_ec;
  accepted.set_option(tcp::no_delay(true), ep_ec);
  Stream stream(beast::tcp_stream(std::move(accepted)), *s.ssl_ctx);
  beast::get_lowest_layer(stream).expires_after(s.config.handshake_timeout);
  auto [hs] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (hs) {
    const auto vf = tls::GetVerifyFailure(stream.native_handle());
    AuditTransport(s, peer, "admin tls handshake failed: " + (vf.reason.empty() ? hs.message() : vf.reason), 0);
    co_return;
  }
  co_await ServeRequests(s, stream, peer);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  auto [sd] = co_await stream.async_shutdown(kTuple);
  (void)sd;
}

awaitable<void> AcceptLoop(std::shared_ptr<AdminListener::State> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(kTuple);
    if (state->stopped) co_return;
    if (ec) {
      // EMFILE and friends: keep serving the connections we have, and wait before the next
      // accept instead of spinning (and logging) on a descriptor table that is still full.
      spdlog::warn("admin listener {}: accept failed: {}; retrying in {} ms", state->config.name, ec.message(),
                   kAcceptBackoff.count());
      state->backoff_timer.expires_after(kAcceptBackoff);
      co_await state->backoff_timer.async_wait(kTuple);
      continue;
    }
    boost::system::error_code ep_ec;
    const tcp::endpoint peer = socket.remote_endpoint(ep_ec);
    if (ep_ec || !Admit(*state, peer.address())) {
      // Gone already, or over a cap: the operator's tools retry, and one source's idle
      // connections never take every slot.
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, RunSession(state, std::move(socket), peer), asio::detached);
  }
}

}  // namespace

Result<std::unique_ptr<AdminListener>> AdminListener::Create(asio::io_context& ioc, const AdminListenerConfig& config,
                                                             Api& api, audit::AuditLog& audit, const Clock& clock,
                                                             Surface* portal) {
  PG_TRY(auto ctx, tls::MakeServerContext(config.tls));
  auto state = std::make_shared<State>(ioc, config, api, audit, clock, std::move(ctx), portal);
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

void AdminListener::Start() { asio::co_spawn(state_->acceptor.get_executor(), AcceptLoop(state_), asio::detached); }

void AdminListener::Stop() {
  if (state_->stopped.exchange(true)) return;
  asio::post(state_->acceptor.get_executor(), [s = state_] {
    boost::system::error_code ec;
    s->acceptor.close(ec);
    s->backoff_timer.cancel();
  });
}

std::uint16_t AdminListener::port() const {
  boost::system::error_code ec;
  return state_->acceptor.local_endpoint(ec).port();
}

const std::string& AdminListener::name() const { return state_->config.name; }

}  // namespace provgate::api
