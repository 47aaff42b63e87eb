// A device response as it goes on the wire: its head written field by field into a sink
// (the connection's send queue; no message object, no header string of its own), then the
// body. Every response carries the same fields in the same order, so refusals stay
// byte-identical (invariant 2).
#pragma once

#include <boost/beast/http/status.hpp>

#include <concepts>
#include <string_view>

#include "base/decimal.hpp"
#include "pipeline/request.hpp"

namespace provgate::http {

template <class Sink>
concept ByteSink = requires(Sink& sink, std::string_view bytes) {
  sink.Queue(bytes);
};

// `version` is the request's (10 or 11); `head` answers a HEAD request: the GET's
// Content-Length, no body. 1xx and 204 responses carry neither (RFC 9110 8.6).
template <ByteSink Sink>
void QueueResponse(Sink& sink, const pipeline::DeviceResponse& pr, bool head, unsigned version, bool keep_alive) {
  sink.Queue(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  sink.Queue(Decimal(pr.status).view());
  sink.Queue(" ");
  sink.Queue(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(pr.status)));
  sink.Queue("\r\nContent-Type: ");
  sink.Queue(pr.content_type);
  sink.Queue(
      "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
      "Content-Security-Policy: default-src 'none'\r\n");
  if (pr.allow_header) sink.Queue("Allow: GET, HEAD, PUT\r\n");
  for (const auto& challenge : pr.www_authenticate) {
    sink.Queue("WWW-Authenticate: ");
    sink.Queue(challenge);
    sink.Queue("\r\n");
  }
  if (pr.retry_after > 0) {
    sink.Queue("Retry-After: ");
    sink.Queue(Decimal(pr.retry_after).view());
    sink.Queue("\r\n");
  }
  // HTTP/1.1 keeps a connection open unless told; HTTP/1.0 closes it unless told.
  if (version == 10 && keep_alive) sink.Queue("Connection: keep-alive\r\n");
  if (version != 10 && !keep_alive) sink.Queue("Connection: close\r\n");
  const bool may_have_body = pr.status >= 200 && pr.status != 204;
  if (may_have_body) {
    sink.Queue("Content-Length: ");
    sink.Queue(Decimal(pr.body.size()).view());
    sink.Queue("\r\n");
  }
  sink.Queue("\r\n");
  if (!head && may_have_body) sink.Queue(pr.body);
}

}  // namespace provgate::http
