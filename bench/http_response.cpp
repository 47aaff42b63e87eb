#include "bench/http_response.hpp"

#include <charconv>

namespace provgate::bench {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

void ResponseParser::Reset() { *this = ResponseParser(); }

ResponseParser::State ResponseParser::Fail(std::string why) {
  error_ = std::move(why);
  state_ = State::kError;
  return state_;
}

ResponseParser::State ResponseParser::ParseHead() {
  std::string_view head(head_);
  const auto line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK"
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
    return Fail("bad status line");
  }
  if (status_line[7] == '0') keep_alive_ = false;
  const std::string_view code = status_line.substr(9, 3);
  const auto [p, ec] = std::from_chars(code.data(), code.data() + 3, status_);
  if (ec != std::errc() || p != code.data() + 3 || status_ < 100 || status_ > 599) {
    return Fail("bad status code");
  }
  std::size_t pos = line_end + 2;
  while (pos < head.size()) {
    const auto end = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return Fail("header without colon");
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsNoCase(name, "content-length")) {
      std::size_t n = 0;
      const auto [q, e] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (e != std::errc() || q != value.data() + value.size()) return Fail("bad content-length");
      if (has_length_ && n != length_) return Fail("conflicting content-length");
      if (n > kMaxBodyBytes) return Fail("body too large");
      has_length_ = true;
      length_ = n;
    } else if (EqualsNoCase(name, "transfer-encoding")) {
      return Fail("transfer-encoding not supported");
    } else if (EqualsNoCase(name, "connection")) {
      if (EqualsNoCase(value, "close"))
        keep_alive_ = false;
      else if (EqualsNoCase(value, "keep-alive"))
        keep_alive_ = true;
    }
  }
  // 1xx, 204 and 304 carry no body.
  if (status_ < 200 || status_ == 204 || status_ == 304) {
    has_length_ = true;
    length_ = 0;
  }
  if (!has_length_) keep_alive_ = false;  // framed by the close
  state_ = has_length_ && length_ == 0 ? State::kComplete : State::kBody;
  return state_;
}

ResponseParser::State ResponseParser::Feed(std::string_view data) {
  while (!data.empty()) {
    switch (state_) {
      case State::kHeaders: {
        // Search only the new bytes plus the 3 before them for the blank line.
        const std::size_t from = head_.size() < 3 ? 0 : head_.size() - 3;
        head_.append(data);
        const auto end = head_.find("\r\n\r\n", from);
        if (end == std::string::npos) {
          if (head_.size() > kMaxHeaderBytes) return Fail("header too large");
          return state_;
        }
        if (end + 4 > kMaxHeaderBytes) return Fail("header too large");
        std::string rest = head_.substr(end + 4);
        head_.resize(end + 4);
        if (ParseHead() == State::kError) return state_;
        if (state_ == State::kComplete) {
          if (!rest.empty()) return Fail("bytes after the response");
          return state_;
        }
        return Feed(rest);
      }
      case State::kBody: {
        if (has_length_) {
          const std::size_t want = length_ - body_.size();
          if (data.size() > want) return Fail("bytes after the response");
          body_.append(data);
          if (body_.size() == length_) state_ = State::kComplete;
        } else {
          if (body_.size() + data.size() > kMaxBodyBytes) return Fail("body too large");
          body_.append(data);
        }
        return state_;
      }
      case State::kComplete: return Fail("bytes after the response");
      case State::kError: return state_;
    }
  }
  return state_;
}

ResponseParser::State ResponseParser::FeedEof() {
  if (state_ == State::kBody && !has_length_) {
    state_ = State::kComplete;
  } else if (state_ != State::kComplete && state_ != State::kError) {
    Fail("connection closed before the response was complete");
  }
  return state_;
}

}  // namespace provgate::bench
