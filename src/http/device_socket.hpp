// One accepted device connection, read and written the way nginx does it rather than
// through Asio's ssl::stream and Beast's stream algorithms. Those complete every step (each
// handshake flight, each read that the buffer could already satisfy, each write) through
// the io_context's queue, so under load every step of a connection waits behind the
// handshakes of all the others, and a request's latency grows with the number of steps.
// Here a step that can go on goes on at once: OpenSSL works on memory BIOs that one recv
// fills and one send drains, requests are parsed from what is buffered, and the serving
// thread waits on the socket only when it has nothing to read or cannot write. Writes
// gather until Flush, so a response, a session ticket and the close_notify leave together.
#pragma once

#include <openssl/ssl.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "http/request_buffer.hpp"

namespace provgate::http {

class DeviceSocket
    : public boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  using Clock = std::chrono::steady_clock;
  using error_code = boost::system::error_code;
  using RequestParser = http::RequestParser;

  explicit DeviceSocket(boost::asio::ip::tcp::socket socket);
  ~DeviceSocket();
  DeviceSocket(const DeviceSocket&) = delete;
  DeviceSocket& operator=(const DeviceSocket&) = delete;

  boost::asio::ip::tcp::socket& socket() { return socket_; }

  // Bytes received and not yet consumed: plain bytes before TLS starts (a PROXY header) or
  // on a plain listener, decrypted bytes after.
  std::string& input() { return in_; }
  // Receives more plain bytes into input(), waiting for them if none are there (before TLS).
  boost::asio::awaitable<error_code> ReadRaw();

  // From here on the connection is TLS: what input() holds is the start of the ClientHello.
  // False if OpenSSL cannot allocate the connection.
  bool StartTls(SSL_CTX* ctx);
  SSL* ssl() const { return ssl_; }
  // The server side of the handshake; an alert of a failed one is sent before returning.
  // When the client's Finished was the handshake's last message (TLS 1.3, TLS 1.2 resumed)
  // and no request came with it, the server acknowledges it at once: a client that keeps
  // Nagle's algorithm on (most embedded TLS stacks) holds its request until then, and the
  // kernel's delayed ACK would make it wait ~40 ms.
  boost::asio::awaitable<error_code> Handshake();

  // Reads one request: from buffered bytes when they hold it, else from the socket. At most
  // `max_unparsed` bytes wait for the parser (ParseBuffered). end_of_stream: the client
  // closed (or, over TLS, sent close_notify) between requests;
  // asio::ssl::error::stream_truncated: it closed without close_notify; beast timeout.
  boost::asio::awaitable<error_code> ReadRequest(RequestParser& parser, size_t max_unparsed);

  // Queues bytes to send without sending them (copied into a buffer the connection keeps,
  // so a keep-alive response allocates nothing). Over TLS they are encrypted as the socket
  // takes them, a few records ahead, so a large response is held once, in plain text.
  void Queue(std::string_view bytes);
  // TLS: the close_notify after everything queued, without waiting for the client's
  // (RFC 8446 6.1 does not require it).
  void QueueCloseNotify();
  // Sends everything queued, waiting while the socket cannot take more. TLS output that
  // OpenSSL queued itself (an alert) goes too, also after a failed write.
  boost::asio::awaitable<error_code> Flush();
  // The same without waiting: true when it is done (`ec` says how), false when the socket
  // takes no more for now and Flush must wait. A caller that tries this first spends no
  // coroutine frame on a response the socket takes at once, the usual case.
  bool FlushNow(error_code& ec);

  // True when the kernel holds input nobody read: closing now would send a reset.
  bool HasUnreadInput();
  // Half-closes, then reads and drops what the client still sends until it closes, `limit`
  // passes or 64 MB came: a close with unread input makes the kernel send a reset, and the
  // client may then lose the response it has not read yet (a 413 during an upload).
  boost::asio::awaitable<void> Linger(std::chrono::milliseconds limit);

  // Deadline of whatever waits next (Asio waits have none of their own); a wait that runs
  // past it ends with beast::error::timeout.
  void ExpiresAfter(std::chrono::milliseconds d) {
    expiry_ = Clock::now() + d;
    timed_out_ = false;
  }
  // The deadline sweep's part: ends a wait past its deadline.
  void ExpireIfDue(Clock::time_point now);

 private:
  enum class Io { kDone, kWouldBlock, kEof, kError };
  Io RecvSome(error_code& ec);                   // one recv into the TLS input or in_
  boost::asio::awaitable<error_code> Receive();  // RecvSome, waiting while nothing comes
  Io ReadSome(error_code& ec);                   // more bytes into in_ (decrypted over TLS), without waiting
  boost::asio::awaitable<error_code> Wait(boost::asio::socket_base::wait_type what);
  bool SendSome(error_code& ec);  // true once out_ is all sent
  void AckNow();                  // the ACK of everything received, now rather than delayed
  error_code TlsError(int ssl_error);
  void Encrypt();        // queued plain text (a few records of it) into out_
  void MoveTlsOutput();  // what OpenSSL wrote into wbio_, into out_

  boost::asio::ip::tcp::socket socket_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;
  std::string in_;
  std::string queued_;  // not yet through TLS (or, plain, not yet moved to out_)
  size_t queued_done_ = 0;
  bool close_notify_queued_ = false;
  std::string out_;  // bytes for the socket
  size_t out_sent_ = 0;
  Clock::time_point expiry_ = Clock::time_point::max();
  bool waiting_ = false;
  bool timed_out_ = false;
  bool write_failed_ = false;
};

// The open connections of one acceptor, for its deadline sweep; a socket leaves the list
// when it is destroyed.
using DeviceSocketList = boost::intrusive::list<DeviceSocket, boost::intrusive::constant_time_size<false>>;

}  // namespace provgate::http
