// DeviceSocket over a real loopback TCP connection: plain, and one TLS exchange with a
// response far larger than what is encrypted ahead of the socket (the black-box tests run
// the TLS path end to end: handshakes, failures, close_notify, resumption).
#include "http/device_socket.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "tls/testing/tls_fixture.hpp"

namespace provgate::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr size_t kMaxUnparsed = 8 * 1024;
constexpr int kSocketBuffer = 128 * 1024;

class DeviceSocketTest : public ::testing::Test {
 protected:
  DeviceSocketTest() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), client_(io_) {
    // Buffers of a set size, not the host's autotuned ones (tcp_rmem/tcp_wmem can reach
    // megabytes): the server-to-client direction then holds well under a megabyte.
    client_.open(tcp::v4());
    client_.set_option(asio::socket_base::receive_buffer_size(kSocketBuffer));
    client_.connect(acceptor_.local_endpoint());
    tcp::socket accepted = acceptor_.accept();
    accepted.set_option(asio::socket_base::send_buffer_size(kSocketBuffer));
    server_.emplace(std::move(accepted));
    server_->ExpiresAfter(10s);
  }

  void Send(std::string_view bytes) { asio::write(client_, asio::buffer(bytes)); }

  // Starts reading one request; the result lands in `result` once io_ runs far enough.
  void StartRead(DeviceSocket::RequestParser& parser, std::optional<boost::system::error_code>& result) {
    asio::co_spawn(io_, server_->ReadRequest(parser, kMaxUnparsed),
                   [&result](std::exception_ptr e, boost::system::error_code ec) {
                     ASSERT_FALSE(e);
                     result = ec;
                   });
  }

  // Runs io_ until `result` is set (or a generous hang guard passes).
  template <class T>
  void RunUntil(const std::optional<T>& result) {
    for (int i = 0; i < 500 && !result; ++i) {
      io_.restart();
      io_.run_for(10ms);
    }
  }

  boost::system::error_code ReadOne(DeviceSocket::RequestParser& parser) {
    std::optional<boost::system::error_code> result;
    StartRead(parser, result);
    RunUntil(result);
    EXPECT_TRUE(result.has_value());
    return result.value_or(asio::error::timed_out);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  tcp::socket client_;
  std::optional<DeviceSocket> server_;
};

TEST_F(DeviceSocketTest, ParsesARequestThatArrivesInPieces) {
  DeviceSocket::RequestParser parser;
  std::optional<boost::system::error_code> result;
  Send("GET /0015651234");
  StartRead(parser, result);
  io_.run_for(30ms);
  EXPECT_FALSE(result) << "a partial request line must wait for more";
  Send("56.cfg HTTP/1.1\r\nHost: prov\r\nUser-Agent: Yea");
  io_.restart();
  io_.run_for(30ms);
  EXPECT_FALSE(result) << "partial headers must wait for more";
  Send("link SIP-T54W\r\n\r\n");
  RunUntil(result);
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result) << result->message();
  EXPECT_EQ(parser.get().target(), "/001565123456.cfg");
  EXPECT_EQ(parser.get()[bhttp::field::user_agent], "Yealink SIP-T54W");
}

TEST_F(DeviceSocketTest, PipelinedRequestsAreParsedFromTheBufferAndTheCloseEndsTheStream) {
  Send("GET /a.cfg HTTP/1.1\r\nHost: p\r\n\r\nPUT /b.log HTTP/1.1\r\nHost: p\r\nContent-Length: 3\r\n\r\nabc");
  client_.shutdown(tcp::socket::shutdown_send);
  DeviceSocket::RequestParser first;
  ASSERT_FALSE(ReadOne(first));
  EXPECT_EQ(first.get().target(), "/a.cfg");
  DeviceSocket::RequestParser second;
  ASSERT_FALSE(ReadOne(second));
  EXPECT_EQ(second.get().target(), "/b.log");
  EXPECT_EQ(second.get().body(), "abc");
  DeviceSocket::RequestParser third;
  EXPECT_EQ(ReadOne(third), bhttp::error::end_of_stream);
}

TEST_F(DeviceSocketTest, ACloseInsideARequestIsAPartialMessage) {
  Send("GET /a.cfg HTTP/1.1\r\nHost: p\r\n");
  client_.shutdown(tcp::socket::shutdown_send);
  DeviceSocket::RequestParser parser;
  EXPECT_EQ(ReadOne(parser), bhttp::error::partial_message);
}

TEST_F(DeviceSocketTest, LimitsOfTheParserApply) {
  DeviceSocket::RequestParser parser;
  parser.header_limit(64);
  Send("GET /a.cfg HTTP/1.1\r\nX-Long: " + std::string(200, 'x') + "\r\n\r\n");
  EXPECT_EQ(ReadOne(parser), bhttp::error::header_limit);

  DeviceSocket::RequestParser body;
  body.body_limit(4);
  server_->input().clear();
  Send("PUT /a.log HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
  EXPECT_EQ(ReadOne(body), bhttp::error::body_limit);
}

TEST_F(DeviceSocketTest, ADeadlinePassedBeforeTheWaitEndsItAtOnce) {
  server_->ExpiresAfter(0ms);
  DeviceSocket::RequestParser parser;
  EXPECT_EQ(ReadOne(parser), boost::beast::error::timeout);
}

TEST_F(DeviceSocketTest, TheSweepEndsAWaitThatRunsPastItsDeadline) {
  server_->ExpiresAfter(20ms);
  DeviceSocket::RequestParser parser;
  std::optional<boost::system::error_code> result;
  StartRead(parser, result);
  io_.run_for(5ms);
  server_->ExpireIfDue(DeviceSocket::Clock::now() - 1s);  // not due yet: nothing happens
  io_.restart();
  io_.run_for(40ms);
  EXPECT_FALSE(result) << "a wait has no deadline of its own; only the sweep ends it";
  server_->ExpireIfDue(DeviceSocket::Clock::now());
  RunUntil(result);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, boost::beast::error::timeout);
}

TEST_F(DeviceSocketTest, FlushWaitsForAClientThatReadsSlowly) {
  // More than the socket buffers hold: Flush must wait for writability, then finish.
  const std::string big(8 * 1024 * 1024, 'z');
  server_->Queue(big);
  std::optional<boost::system::error_code> result;
  asio::co_spawn(io_, server_->Flush(), [&result](std::exception_ptr e, boost::system::error_code ec) {
    ASSERT_FALSE(e);
    result = ec;
  });
  io_.run_for(30ms);
  EXPECT_FALSE(result) << "the kernel cannot have taken 8 MB unread";
  std::string got(big.size(), '\0');
  size_t have = 0;
  client_.non_blocking(true);
  for (int i = 0; i < 2000 && have < got.size(); ++i) {
    boost::system::error_code ec;
    have += client_.read_some(asio::buffer(got.data() + have, got.size() - have), ec);
    io_.restart();
    io_.run_for(1ms);
  }
  RunUntil(result);
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result) << result->message();
  EXPECT_EQ(have, big.size());
  EXPECT_EQ(got, big);
}

TEST_F(DeviceSocketTest, LingerDrainsUntilTheClientCloses) {
  Send(std::string(100'000, 'u'));  // left unread by a refused request
  EXPECT_TRUE(server_->HasUnreadInput());
  bool done = false;
  asio::co_spawn(io_, server_->Linger(10s), [&done](std::exception_ptr e) {
    ASSERT_FALSE(e);
    done = true;
  });
  io_.run_for(30ms);
  EXPECT_FALSE(done) << "the client has not closed yet";
  // The half-close reached the client: it reads EOF, not a reset, and closes in turn.
  client_.non_blocking(true);
  std::array<char, 16> buf{};
  boost::system::error_code ec;
  client_.read_some(asio::buffer(buf), ec);
  EXPECT_EQ(ec, asio::error::eof);
  client_.shutdown(tcp::socket::shutdown_send);
  for (int i = 0; i < 500 && !done; ++i) {
    io_.restart();
    io_.run_for(10ms);
  }
  EXPECT_TRUE(done);
}

TEST_F(DeviceSocketTest, LingerEndsAtItsLimitWhileTheClientKeepsSending) {
  bool done = false;
  asio::co_spawn(io_, server_->Linger(50ms), [&done](std::exception_ptr e) {
    ASSERT_FALSE(e);
    done = true;
  });
  client_.non_blocking(true);
  const std::string chunk(4096, 'k');
  for (int i = 0; i < 2000 && !done; ++i) {  // the sweep's part is played here
    boost::system::error_code ec;
    client_.write_some(asio::buffer(chunk), ec);
    io_.restart();
    io_.run_for(1ms);
    server_->ExpireIfDue(DeviceSocket::Clock::now());
  }
  EXPECT_TRUE(done) << "a client that never stops sending is not read forever";
}

class DeviceSocketTlsTest : public tls::testing::TlsFilesTest {
 protected:
  // A phone's side: connects `sock` to the port, completes the handshake and sends `request`.
  // Null when the handshake failed.
  static tls::testing::SslPtr ConnectAndSend(tcp::socket& sock, SSL_CTX* ctx, unsigned short port,
                                             const std::string& request) {
    sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    tls::testing::SslPtr ssl(SSL_new(ctx));
    SSL_set_fd(ssl.get(), sock.native_handle());
    if (SSL_connect(ssl.get()) != 1) return nullptr;
    SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
    return ssl;
  }
};

TEST_F(DeviceSocketTlsTest, ALargeResponseArrivesWholeAndEndsWithCloseNotify) {
  auto server_ctx = Server(tls::ClientCertMode::kOff);
  auto client_ctx = Client(nullptr);
  ASSERT_TRUE(server_ctx && client_ctx);
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();

  std::string received;
  bool clean_close = false;
  std::thread client([&] {
    asio::io_context cio;
    tcp::socket sock(cio);
    auto ssl = ConnectAndSend(sock, client_ctx.get(), port, "GET /big.cfg HTTP/1.1\r\nHost: p\r\n\r\n");
    if (!ssl) return;
    std::array<char, 16384> buf{};
    for (;;) {
      const int n = SSL_read(ssl.get(), buf.data(), static_cast<int>(buf.size()));
      if (n > 0) {
        received.append(buf.data(), static_cast<size_t>(n));
        continue;
      }
      clean_close = SSL_get_error(ssl.get(), n) == SSL_ERROR_ZERO_RETURN;
      return;
    }
  });

  const std::string big = [] {
    std::string b;
    for (int i = 0; b.size() < 3 * 1024 * 1024; ++i) b += "line " + std::to_string(i) + "\n";
    return b;
  }();
  std::optional<boost::system::error_code> result;
  DeviceSocket server(acceptor.accept());
  server.ExpiresAfter(10s);
  ASSERT_TRUE(server.StartTls(server_ctx->native_handle()));
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<boost::system::error_code> {
        if (auto ec = co_await server.Handshake()) co_return ec;
        DeviceSocket::RequestParser parser;
        if (auto ec = co_await server.ReadRequest(parser, kMaxUnparsed)) co_return ec;
        if (parser.get().target() != "/big.cfg") co_return asio::error::invalid_argument;
        server.Queue(big);
        server.QueueCloseNotify();
        co_return co_await server.Flush();
      },
      [&](std::exception_ptr e, boost::system::error_code ec) {
        ASSERT_FALSE(e);
        result = ec;
      });
  for (int i = 0; i < 1000 && !result; ++i) {
    io.restart();
    io.run_for(10ms);
  }
  client.join();
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result) << result->message();
  EXPECT_EQ(received.size(), big.size());
  EXPECT_TRUE(received == big);
  EXPECT_TRUE(clean_close) << "the close_notify follows the last byte";
}

// After a request, a phone that ends the session with close_notify ends the stream; one
// that just closes the connection leaves it truncated (no response owed to either).
TEST_F(DeviceSocketTlsTest, TheEndOfAConnectionSaysWhetherThePhoneSentCloseNotify) {
  auto server_ctx = Server(tls::ClientCertMode::kOff);
  auto client_ctx = Client(nullptr);
  ASSERT_TRUE(server_ctx && client_ctx);
  for (const bool close_notify : {true, false}) {
    std::atomic<bool> server_done{false};
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    std::thread client([&] {
      asio::io_context cio;
      tcp::socket sock(cio);
      auto ssl = ConnectAndSend(sock, client_ctx.get(), port, "GET /a.cfg HTTP/1.1\r\nHost: p\r\n\r\n");
      if (!ssl) return;
      if (close_notify) SSL_shutdown(ssl.get());
      ::shutdown(sock.native_handle(), SHUT_WR);  // the end, without a reset
      while (!server_done) std::this_thread::sleep_for(1ms);
    });
    std::optional<boost::system::error_code> first, second;
    DeviceSocket server(acceptor.accept());
    server.ExpiresAfter(10s);
    ASSERT_TRUE(server.StartTls(server_ctx->native_handle()));
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          if (co_await server.Handshake()) co_return;
          DeviceSocket::RequestParser one;
          first = co_await server.ReadRequest(one, kMaxUnparsed);
          DeviceSocket::RequestParser two;
          second = co_await server.ReadRequest(two, kMaxUnparsed);
        },
        asio::detached);
    for (int i = 0; i < 1000 && !second; ++i) {
      io.restart();
      io.run_for(10ms);
    }
    server_done = true;
    client.join();
    ASSERT_TRUE(first && second) << close_notify;
    EXPECT_FALSE(*first) << first->message();
    if (close_notify) {
      EXPECT_EQ(*second, bhttp::error::end_of_stream) << second->message();
    } else {
      EXPECT_EQ(*second, asio::ssl::error::stream_truncated) << second->message();
    }
  }
}

}  // namespace
}  // namespace provgate::http
