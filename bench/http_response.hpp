// Incremental parser for the HTTP/1.1 responses the load generator reads. Pure (no I/O), so
// every framing rule is unit-tested. It trusts nothing: limits on header and body size, and
// anything it does not understand (chunked bodies included) is a protocol error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace provgate::bench {

class ResponseParser {
 public:
  enum class State { kHeaders, kBody, kComplete, kError };
  static constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
  static constexpr std::size_t kMaxBodyBytes = 1024 * 1024;

  void Reset();
  // Consumes bytes; returns the state afterwards. Bytes past a complete response are an
  // error: the generator never pipelines.
  State Feed(std::string_view data);
  // The peer closed the connection: completes a response framed by the close.
  State FeedEof();

  State state() const { return state_; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }
  bool keep_alive() const { return keep_alive_; }
  const std::string& error() const { return error_; }

 private:
  State Fail(std::string why);
  State ParseHead();

  State state_ = State::kHeaders;
  std::string head_;
  std::string body_;
  int status_ = 0;
  bool has_length_ = false;
  std::size_t length_ = 0;
  bool keep_alive_ = true;
  std::string error_;
};

}  // namespace provgate::bench
