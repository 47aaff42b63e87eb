// Request framings every listener refuses (RFC 9112), device and admin alike: a framing that a
// proxy in front of the server could read differently from the server is the precondition of
// request smuggling, and no honest client sends one.
#pragma once

#include <boost/beast/http/field.hpp>

namespace provgate::http {

// Why the framing of `request` (a Beast request message or parser's message, header read) is
// refused, or nullptr when it is acceptable:
// - Transfer-Encoding in HTTP/1.0, which has no chunked framing (RFC 9112 §6.1): the sender is
//   faulty;
// - a Transfer-Encoding whose last coding is not chunked, which leaves the body's length
//   undefined (RFC 9112 §6.3).
template <class Request>
const char* RefusedFraming(const Request& request) {
  if (request.count(boost::beast::http::field::transfer_encoding) == 0) return nullptr;
  if (request.version() < 11) return "Transfer-Encoding in HTTP/1.0";
  if (!request.chunked()) return "Transfer-Encoding without final chunked";
  return nullptr;
}

}  // namespace provgate::http
