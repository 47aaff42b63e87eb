// Device-facing HTTPS listeners (Asio coroutines, Beast's HTTP parser, OpenSSL through
// DeviceSocket): one coroutine per connection,
// on the io_context of the acceptor that took it (thread per core: each io_context is run
// by one thread, so a connection never needs a strand),
// deadlines on the handshake, on each request's headers and on idle keep-alive, header and
// body limits, and every TLS handshake failure audited. Requests go to the pipeline; this
// layer adds only transport headers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "base/result.hpp"
#include "pipeline/device_metrics.hpp"
#include "pipeline/pipeline.hpp"
#include "tls/cert_identity.hpp"
#include "tls/server_context.hpp"

namespace provgate::http {

struct Limits {
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds header_timeout{10'000};  // first byte to end of headers
  std::chrono::milliseconds idle_timeout{30'000};    // between keep-alive requests
  std::uint32_t max_header_bytes = 8 * 1024;
  std::uint64_t max_body_bytes = 64 * 1024;
  std::uint32_t max_requests_per_connection = 1000;
  // Open connections of the listener (all its serving threads together); a connection
  // accepted beyond it is closed at once, so idle or slow clients cannot take every
  // descriptor.
  std::uint32_t max_connections = 20'000;
};

struct ListenerConfig {
  std::string name = "devices";
  std::string bind = "0.0.0.0";
  std::uint16_t port = 8443;  // 0 = ephemeral (tests)
  bool plain_http = false;    // no TLS at all; only tenants that opt in, only digest
  // PROXY protocol (v1/v2) header expected before TLS, honoured only from these peers; a
  // connection from anyone else is closed. Empty = no PROXY protocol on this listener.
  std::vector<std::string> proxy_protocol_from;
  tls::ServerTlsSettings tls;
  pipeline::AllowedMethods methods;
  Limits limits;
};

class Listener {
 public:
  // Binds immediately so configuration errors (port in use, bad address, unusable TLS
  // files) surface at start-up with a clear message. Counts its requests and failed
  // handshakes in `metrics`, which must outlive it.
  static Result<std::unique_ptr<Listener>> Create(boost::asio::io_context& ioc, const ListenerConfig& config,
                                                  std::vector<tls::MacRule> mac_rules, pipeline::Pipeline& pipeline,
                                                  audit::AuditLog& audit, const Clock& clock,
                                                  pipeline::ListenerMetrics& metrics);
  // Another acceptor for the same port (SO_REUSEPORT) on another io_context, sharing this
  // listener's TLS context (so its session and verified-certificate caches): one per serving
  // thread, and the kernel spreads new connections across them.
  Result<std::unique_ptr<Listener>> AddAcceptor(boost::asio::io_context& ioc) const;
  ~Listener();

  // Starts accepting on the io_context's thread.
  void Start();
  // Stops accepting; open sessions end at their next deadline or request.
  void Stop();
  std::uint16_t port() const;
  const std::string& name() const;

  struct State;

 private:
  explicit Listener(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace provgate::http
