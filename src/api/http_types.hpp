// The admin plane's request and response as the router sees them: plain values, apart
// from sockets and TLS, so unit tests and fuzzers drive the router exactly as the listener
// does.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace provgate::api {

struct ApiRequest {
  std::string method;
  std::string target;  // origin-form: path and optional query
  // Every Authorization field line, in order: more than one is refused, never guessed.
  std::vector<std::string> authorization;
  std::string content_type;
  std::vector<std::string> origin;  // Origin field lines
  std::string body;
  // The request declared a body that was not read (Api::BodyLimit refused it).
  bool body_withheld = false;
  std::string peer_ip;
  std::string listener;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra fields (Retry-After, WWW-Authenticate, Allow, CORS); the listener adds the
  // security headers every response carries.
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace provgate::api
