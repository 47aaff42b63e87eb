// What the listener hands the pipeline for one HTTP request, and what it gets back. Plain
// values: the pipeline never touches sockets, so it is unit-testable without TLS.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "net/ip_address.hpp"
#include "tls/cert_identity.hpp"

namespace provgate::pipeline {

// Identity methods a listener accepts (listener config `methods`).
struct AllowedMethods {
  bool client_cert = true;
  bool token = true;
  bool digest = true;  // HTTP Digest and, over TLS only, Basic
  bool ip = true;      // source IP range, only where a tenant allows it as identity
};

// DeviceRequest::cert_problem of a verified certificate that no MAC rule matched.
inline constexpr std::string_view kCertProblemNoMac = "no MAC in certificate";

struct DeviceRequest {
  std::string listener;
  net::IpAddress peer = net::IpAddress::V4({0, 0, 0, 0});  // the TCP peer, or what a trusted PROXY header said
  std::uint16_t peer_port = 0;
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // raw request target, e.g. "/001565aabbcc.cfg?x=1"
  std::string user_agent;
  std::string authorization;    // Authorization header, if any
  std::string forwarded;        // every Forwarded line, joined (honoured only from trusted proxies)
  std::string x_forwarded_for;  // every X-Forwarded-For line, joined (idem)
  std::string body;             // PUT uploads only
  bool tls = true;              // false on a plain-HTTP listener
  AllowedMethods methods;
  // Verified client certificate identity; nullopt when none was presented or no MAC rule
  // matched (then cert_subject/cert_problem say why).
  std::optional<tls::CertIdentity> cert;
  std::string cert_subject;
  std::string cert_problem;  // kCertProblemNoMac, or why the certificate was not usable
  TimePoint received;
};

struct DeviceResponse {
  int status = 404;
  std::string_view content_type;  // always a constant (a literal or a vendor route's)
  std::string body;
  bool allow_header = false;                  // 405: send "Allow: GET, HEAD, PUT"
  std::vector<std::string> www_authenticate;  // 401 digest challenges
  std::int64_t retry_after = 0;               // 429/503: seconds
};

}  // namespace provgate::pipeline
