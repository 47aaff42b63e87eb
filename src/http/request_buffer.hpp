// Parsing requests from what a connection has buffered, apart from the socket (and from
// coroutines) so that the libFuzzer target can drive it exactly as DeviceSocket does.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <memory_resource>
#include <string>

namespace provgate::http {

// The header fields live in memory the caller chooses (a per-connection arena in the
// listener, so a keep-alive request allocates nothing for them); default: the heap.
using FieldsAllocator = std::pmr::polymorphic_allocator<char>;
using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body, FieldsAllocator>;

// Feeds buffered bytes to the parser (eagerly: headers and body in one go) and erases what
// it consumed, once per call, so a body of tiny chunks costs one move per read, not one
// per chunk. An error is a bad or oversized request, or more than `max_unparsed` bytes
// that the parser keeps without consuming (Beast bounds a header by its header limit but
// not a chunk-size line or a trailer); no error with the parser not done means it needs
// more bytes.
inline boost::system::error_code ParseBuffered(RequestParser& parser, std::string& in, size_t max_unparsed) {
  parser.eager(true);
  boost::system::error_code ec;
  size_t pos = 0;
  while (pos < in.size() && !parser.is_done()) {
    // Beast 1.81 parses the final chunk of a chunked body again with each put until its
    // trailer ends, and asserts (debug builds) that at least 5 bytes are there
    // (basic_parser.ipp, parse_chunk_header); a client sending "0\r\n" and then one byte
    // would abort the server. The body cannot end in fewer bytes ("0\r\n\r\n") anyway.
    if (parser.is_header_done() && parser.chunked() && in.size() - pos < 5) break;
    const size_t used = parser.put(boost::asio::buffer(in.data() + pos, in.size() - pos), ec);
    pos += used;
    if (ec == boost::beast::http::error::need_more) {
      ec = {};
      break;
    }
    if (ec || used == 0) break;
  }
  in.erase(0, pos);
  if (!ec && !parser.is_done() && in.size() > max_unparsed) ec = boost::beast::http::error::buffer_overflow;
  return ec;
}

}  // namespace provgate::http
