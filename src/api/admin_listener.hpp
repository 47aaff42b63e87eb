// The admin listener: HTTPS only, apart from every device listener (its own port, TLS
// context and thread), serving api::Api. One coroutine per connection on Beast's SSL stream
// (the admin plane needs no device-plane throughput): a handshake deadline, a header
// deadline, a body deadline, an idle deadline between keep-alive requests, a header limit, a
// cap on open connections and one per source address, and a body read only after its
// header was admitted (Api::AdmitBody: a valid key, a route that takes a body, within that
// route's limit), so a client without a key never makes the server buffer a body. A route that streams its body (the
// import) gets it piece by piece as it is read (Api::Open); a streamed response body (the audit page) is sent with
// chunked transfer encoding as it is produced. Requests are handled one at a time per listener thread (the domain layer
// blocks on the store and the audit fsync), so the device plane's threads never wait for an operator.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/api.hpp"
#include "api/surface.hpp"
#include "audit/audit_log.hpp"
#include "base/result.hpp"
#include "tls/server_context.hpp"

namespace provgate::api {

struct AdminListenerConfig {
  std::string name = "admin";
  std::string bind = "127.0.0.1";
  std::uint16_t port = 9443;  // 0 = ephemeral (tests)
  // Server certificate and key; client_cert "required" or "optional" asks operators for a
  // certificate from trust_anchors (an operator CA) on top of their API key.
  tls::ServerTlsSettings tls;
  std::chrono::milliseconds handshake_timeout{10'000};
  // From the handshake (or the idle wait after a request) to the end of a request's header:
  // short, so that connections that send nothing do not hold slots.
  std::chrono::milliseconds header_timeout{10'000};
  // From the end of the header to the end of the body (imports are large, so longer than a
  // device's).
  std::chrono::milliseconds request_timeout{60'000};
  std::chrono::milliseconds idle_timeout{30'000};  // between keep-alive requests
  std::uint32_t max_header_bytes = 16 * 1024;
  std::uint32_t max_connections = 64;
  // Open connections from one source address: below max_connections, so that one source
  // cannot take every slot and lock the operators out.
  std::uint32_t max_connections_per_source = 16;
  ApiOptions api;
  // The portal's engineer window (portal::PortalOptions::engineer_window_seconds).
  std::int64_t engineer_window_seconds = 3600;
  // The portal's failed sign-ins per source and per user name
  // (portal::PortalOptions::sign_in_failures).
  AuthThrottleOptions sign_in_failures{5, 300, 900};
};

class AdminListener {
 public:
  // Binds immediately, so a port in use or unusable TLS files fail the start-up. `portal`
  // (may be null) serves the targets it claims (Surface::Serves); it must outlive the
  // listener.
  static Result<std::unique_ptr<AdminListener>> Create(boost::asio::io_context& ioc, const AdminListenerConfig& config,
                                                       Api& api, audit::AuditLog& audit, const Clock& clock,
                                                       Surface* portal = nullptr);
  ~AdminListener();
  void Start();
  void Stop();
  std::uint16_t port() const;
  const std::string& name() const;

  struct State;

 private:
  explicit AdminListener(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace provgate::api
