// What the listener hands the pipeline for one HTTP request, and what it gets back. Plain
// values: the pipeline never touches sockets, so it is unit-testable without TLS.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "tls/cert_identity.hpp"

namespace provgate::pipeline {

struct DeviceRequest {
  std::string listener;
  std::string peer_ip;
  std::uint16_t peer_port = 0;
  std::string method;       // "GET", "HEAD", ...
  std::string target;       // raw request target, e.g. "/001565aabbcc.cfg?x=1"
  std::string user_agent;
  // Verified client certificate identity; nullopt when none was presented or no MAC rule
  // matched (then cert_subject/cert_problem say why).
  std::optional<tls::CertIdentity> cert;
  std::string cert_subject;
  std::string cert_problem;
  TimePoint received;
};

struct DeviceResponse {
  int status = 404;
  std::string content_type;
  std::string body;
  bool allow_header = false;  // 405: send "Allow: GET, HEAD"
};

}  // namespace provgate::pipeline
