// Parsing requests from what a connection has buffered, apart from the socket (and from
// coroutines) so that the libFuzzer target can drive it exactly as DeviceSocket does.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <string>

namespace provgate::http {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Feeds buffered bytes to the parser and erases what it consumed. An error is a bad or
// oversized request; no error with the parser not done means it needs more bytes.
inline boost::system::error_code ParseBuffered(RequestParser& parser, std::string& in) {
  while (!in.empty() && !parser.is_done()) {
    // Beast 1.81 parses the final chunk of a chunked body again with each put until its
    // trailer ends, and asserts (debug builds) that at least 5 bytes are there
    // (basic_parser.ipp, parse_chunk_header); a client sending "0\r\n" and then one byte
    // would abort the server. The body cannot end in fewer bytes ("0\r\n\r\n") anyway.
    if (parser.is_header_done() && parser.chunked() && in.size() < 5) break;
    boost::system::error_code ec;
    const size_t used = parser.put(boost::asio::buffer(in), ec);
    in.erase(0, used);
    if (ec == boost::beast::http::error::need_more) break;
    if (ec) return ec;
    if (used == 0) break;
  }
  return {};
}

}  // namespace provgate::http
