// The admin plane's request and response as the router sees them: values apart from sockets
// and TLS (a large response body is a generator the listener drains), so unit tests and
// fuzzers drive the router exactly as the listener does.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace provgate::api {

struct ApiRequest {
  std::string method;
  std::string target;  // origin-form: path and optional query
  // Every Authorization field line, in order: more than one is refused, never guessed.
  std::vector<std::string> authorization;
  std::string content_type;
  std::vector<std::string> origin;  // Origin field lines
  std::vector<std::string> cookie;  // Cookie field lines (the portal's session)
  std::string body;
  // The request declared a body that was not read (Api::AdmitBody refused it).
  bool body_withheld = false;
  std::string peer_ip;  // the socket peer's address: per-source throttles key on it
  std::string peer;     // the socket peer as audit records spell it: "a.b.c.d:port", "[v6]:port"
  std::string listener;
};

// A response body produced while it is sent, so that it is never whole in memory: each call
// returns the next piece, an empty piece after the last. The listener sends the pieces with
// chunked transfer encoding (HTTP/1.0: until the connection closes). An error after the
// status line cannot change the status any more: the listener closes the connection without
// ending the chunked body, so the client sees a truncated response, never a complete one.
using BodyStream = std::function<Result<std::string>()>;

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  BodyStream stream;  // when set, the body (and `body` is empty)
  // Extra fields (Retry-After, WWW-Authenticate, Allow, CORS, Set-Cookie); the listener adds
  // the security headers every response carries, and its Content-Security-Policy unless the
  // response has its own (the portal's pages).
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace provgate::api
