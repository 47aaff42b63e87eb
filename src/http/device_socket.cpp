#include "http/device_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

namespace provgate::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::awaitable;

namespace {

// One TLS record and its overhead: what one recv or SSL_read takes at most. Only used
// between two calls that do not suspend, so one per thread does.
thread_local std::array<char, 17 * 1024> scratch;

// Empties a buffer and keeps its memory for the connection's next response, unless a large
// response grew it: that memory goes now, not at the close.
void ReleaseLarge(std::string& buffer) {
  constexpr size_t kKeep = 64 * 1024;
  if (buffer.capacity() > kKeep) {
    std::string().swap(buffer);
  } else {
    buffer.clear();
  }
}

}  // namespace

DeviceSocket::DeviceSocket(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
  error_code ec;
  socket_.non_blocking(true, ec);
}

DeviceSocket::~DeviceSocket() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

bool DeviceSocket::StartTls(SSL_CTX* ctx) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) return false;
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  if (rbio_ == nullptr || wbio_ == nullptr) {
    BIO_free(rbio_);
    BIO_free(wbio_);
    rbio_ = wbio_ = nullptr;
    return false;
  }
  BIO_set_mem_eof_return(rbio_, -1);  // empty means "more to come" until the peer closes
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_accept_state(ssl_);
  if (!in_.empty()) {
    BIO_write(rbio_, in_.data(), static_cast<int>(in_.size()));
    in_.clear();
  }
  return true;
}

void DeviceSocket::ExpireIfDue(Clock::time_point now) {
  if (!waiting_ || now < expiry_) return;
  timed_out_ = true;
  error_code ec;
  socket_.cancel(ec);
}

awaitable<DeviceSocket::error_code> DeviceSocket::Wait(asio::socket_base::wait_type what) {
  if (timed_out_ || Clock::now() >= expiry_) co_return boost::beast::error::timeout;
  waiting_ = true;
  auto [ec] = co_await socket_.async_wait(what, asio::as_tuple(asio::use_awaitable));
  waiting_ = false;
  if (timed_out_) co_return boost::beast::error::timeout;
  co_return ec;
}

DeviceSocket::Io DeviceSocket::RecvSome(error_code& ec) {
  for (;;) {
    const ssize_t n = ::recv(socket_.native_handle(), scratch.data(), scratch.size(), 0);
    if (n > 0) {
      if (ssl_ != nullptr) {
        BIO_write(rbio_, scratch.data(), static_cast<int>(n));
      } else {
        in_.append(scratch.data(), static_cast<size_t>(n));
      }
      return Io::kDone;
    }
    if (n == 0) {
      if (ssl_ != nullptr) BIO_set_mem_eof_return(rbio_, 0);  // OpenSSL sees the end
      return Io::kEof;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWouldBlock;
    ec = error_code(errno, boost::system::system_category());
    return Io::kError;
  }
}

awaitable<DeviceSocket::error_code> DeviceSocket::Receive() {
  for (;;) {
    error_code ec;
    switch (RecvSome(ec)) {
      case Io::kDone: co_return error_code{};
      case Io::kEof: co_return asio::error::eof;
      case Io::kError: co_return ec;
      case Io::kWouldBlock: break;
    }
    if (auto w = co_await Wait(asio::socket_base::wait_read)) co_return w;
  }
}

awaitable<DeviceSocket::error_code> DeviceSocket::ReadRaw() { co_return co_await Receive(); }

DeviceSocket::error_code DeviceSocket::TlsError(int ssl_error) {
  const unsigned long e = ERR_peek_error();
  // The peer closed without close_notify: what Asio reports as a truncated stream.
  if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    ERR_clear_error();
    return asio::ssl::error::stream_truncated;
  }
  if (ssl_error == SSL_ERROR_SSL && e != 0) {
    ERR_clear_error();
    return error_code(static_cast<int>(e), asio::error::get_ssl_category());
  }
  ERR_clear_error();
  return asio::ssl::error::unspecified_system_error;
}

awaitable<DeviceSocket::error_code> DeviceSocket::Handshake() {
  for (;;) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      // TLS 1.2: the server's Finished is still to go, and carries the ACK of the client's.
      MoveTlsOutput();
      const bool client_spoke_last = out_sent_ == out_.size();
      if (auto ec = co_await Flush()) co_return ec;
      if (client_spoke_last && BIO_ctrl_pending(rbio_) == 0) AckNow();
      co_return error_code{};
    }
    const int err = SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_WANT_READ) {
      const error_code failure = TlsError(err);
      // The alert tells the phone why; one try, no wait for a client that does not read.
      MoveTlsOutput();
      error_code ignored;
      SendSome(ignored);
      co_return failure;
    }
    if (auto ec = co_await Flush()) co_return ec;
    if (auto ec = co_await Receive(); ec && ec != asio::error::eof) co_return ec;
  }
}

DeviceSocket::Io DeviceSocket::ReadSome(error_code& ec) {
  if (ssl_ == nullptr) return RecvSome(ec);
  bool eof = false;
  for (;;) {
    ERR_clear_error();
    const int r = SSL_read(ssl_, scratch.data(), static_cast<int>(scratch.size()));
    if (r > 0) {
      in_.append(scratch.data(), static_cast<size_t>(r));
      return Io::kDone;
    }
    const int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_ZERO_RETURN) return Io::kEof;  // close_notify
    if (err != SSL_ERROR_WANT_READ || eof) {
      ec = TlsError(err);
      return Io::kError;
    }
    switch (RecvSome(ec)) {
      case Io::kDone: break;
      case Io::kEof: eof = true; break;  // the next SSL_read reports how the peer left
      case Io::kError: return Io::kError;
      case Io::kWouldBlock: return Io::kWouldBlock;
    }
  }
}

// Everything that needs no wait happens here, in this one frame: a keep-alive request that
// is already buffered, or arrives while the previous response is sent, costs no coroutine
// below it.
awaitable<DeviceSocket::error_code> DeviceSocket::ReadRequest(RequestParser& parser, size_t max_unparsed) {
  for (;;) {
    if (auto ec = ParseBuffered(parser, in_, max_unparsed)) co_return ec;
    if (parser.is_done()) co_return error_code{};
    error_code ec;
    switch (ReadSome(ec)) {
      case Io::kDone: continue;
      case Io::kError: co_return ec;
      case Io::kEof:
        if (!parser.got_some()) co_return bhttp::error::end_of_stream;
        parser.put_eof(ec);
        co_return ec ? ec : bhttp::error::partial_message;
      case Io::kWouldBlock: break;
    }
    // A KeyUpdate or similar may have left an answer to send first.
    if (!FlushNow(ec)) ec = co_await Flush();
    if (ec) co_return ec;
    if (auto w = co_await Wait(asio::socket_base::wait_read)) co_return w;
  }
}

void DeviceSocket::Queue(std::string_view bytes) {
  if (queued_done_ == queued_.size()) {
    queued_.clear();
    queued_done_ = 0;
  }
  queued_.append(bytes);
}

void DeviceSocket::QueueCloseNotify() {
  if (ssl_ != nullptr) close_notify_queued_ = true;
}

void DeviceSocket::Encrypt() {
  if (ssl_ == nullptr) {
    if (out_sent_ == out_.size() && queued_done_ == 0) {
      out_.swap(queued_);  // plain text is what goes out: no copy
      out_sent_ = 0;
    } else {
      out_.append(queued_, queued_done_);
    }
    queued_.clear();
    queued_done_ = 0;
    return;
  }
  // A few records ahead of the socket: enough for one send, not a second copy of the whole.
  constexpr size_t kRecord = 16 * 1024;
  constexpr size_t kAhead = 4 * kRecord;
  while (queued_done_ < queued_.size() && !write_failed_ &&
         out_.size() - out_sent_ + BIO_ctrl_pending(wbio_) < kAhead) {
    const size_t n = std::min(kRecord, queued_.size() - queued_done_);
    ERR_clear_error();
    // A memory BIO takes any amount, so SSL_write takes all of it or fails for good.
    if (SSL_write(ssl_, queued_.data() + queued_done_, static_cast<int>(n)) <= 0) {
      ERR_clear_error();
      write_failed_ = true;
      break;
    }
    queued_done_ += n;
  }
  if (queued_done_ == queued_.size() || write_failed_) {
    ReleaseLarge(queued_);
    queued_done_ = 0;
    if (std::exchange(close_notify_queued_, false) && !write_failed_) {
      SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_RECEIVED_SHUTDOWN);
      ERR_clear_error();
      if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
    }
  }
  MoveTlsOutput();
}

void DeviceSocket::MoveTlsOutput() {
  if (wbio_ == nullptr) return;
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  while (const size_t pending = BIO_ctrl_pending(wbio_)) {
    const size_t old = out_.size();
    out_.resize(old + pending);
    const int n = BIO_read(wbio_, out_.data() + old, static_cast<int>(pending));
    out_.resize(old + static_cast<size_t>(n > 0 ? n : 0));
    if (n <= 0) break;
  }
}

bool DeviceSocket::SendSome(error_code& ec) {
  while (out_sent_ < out_.size()) {
    const ssize_t n = ::send(socket_.native_handle(), out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n >= 0) {
      out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec = error_code(errno, boost::system::system_category());
    return false;
  }
  ReleaseLarge(out_);
  out_sent_ = 0;
  return true;
}

bool DeviceSocket::FlushNow(error_code& ec) {
  for (;;) {
    Encrypt();
    const bool sent = SendSome(ec);
    if (ec) return true;
    if (sent && queued_done_ == queued_.size() && !close_notify_queued_) {
      if (write_failed_) ec = asio::ssl::error::unspecified_system_error;
      return true;
    }
    if (!sent) return false;  // the socket takes no more for now
    // else more plain text to encrypt
  }
}

awaitable<DeviceSocket::error_code> DeviceSocket::Flush() {
  for (;;) {
    error_code ec;
    if (FlushNow(ec)) co_return ec;
    if (auto w = co_await Wait(asio::socket_base::wait_write)) co_return w;
  }
}

void DeviceSocket::AckNow() {
  // Setting TCP_QUICKACK sends an ACK the kernel is holding back, and leaves the connection
  // out of delayed-ACK mode until it next sees traffic both ways. A failure costs only time.
  const int on = 1;
  static_cast<void>(::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on));
}

bool DeviceSocket::HasUnreadInput() {
  int unread = 0;
  return ::ioctl(socket_.native_handle(), FIONREAD, &unread) == 0 && unread > 0;
}

awaitable<void> DeviceSocket::Linger(std::chrono::milliseconds limit) {
  constexpr size_t kMaxBytes = 64 * 1024 * 1024;
  constexpr size_t kTurn = 256 * 1024;  // then the other connections of the thread get theirs
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  ExpiresAfter(limit);
  size_t dropped = 0;
  size_t turn = 0;
  while (dropped < kMaxBytes && Clock::now() < expiry_) {
    const ssize_t n = ::recv(socket_.native_handle(), scratch.data(), scratch.size(), 0);
    if (n > 0) {
      dropped += static_cast<size_t>(n);
      turn += static_cast<size_t>(n);
      if (turn >= kTurn) {
        turn = 0;
        co_await asio::post(socket_.get_executor(), asio::use_awaitable);
      }
      continue;
    }
    if (n == 0) co_return;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) co_return;
    if (co_await Wait(asio::socket_base::wait_read)) co_return;
  }
}

}  // namespace provgate::http
