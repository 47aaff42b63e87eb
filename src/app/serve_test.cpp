// App::Serve as a caller sees it: ready is reported once, with the ports bound, after which a
// request is answered; Serving::stop ends Serve.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <future>
#include <optional>
#include <string>
#include <thread>

#include "app/app.hpp"
#include "app/config.hpp"
#include "app/demo.hpp"
#include "tls/testing/test_pki.hpp"

namespace provgate::app {
namespace {

// Sends one plain HTTP/1.1 request that closes the connection; returns the whole response.
std::string Fetch(std::uint16_t port, const std::string& target) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(request));
  std::string response;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::dynamic_buffer(response), ec);  // until the server closes
  return response;
}

TEST(AppServe, ReportsReadinessWithTheBoundPortsAndStopsOnRequest) {
  tls::testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto demo = InitDemo(dir / "demo", 0, 0);
  ASSERT_TRUE(demo) << demo.error().message;
  auto config = LoadConfig(demo->config);
  ASSERT_TRUE(config) << config.error().message;
  config->threads = 2;  // each listener is reported once, not once per serving thread
  http::ListenerConfig plain;
  plain.name = "plain";
  plain.bind = "127.0.0.1";
  plain.port = 0;
  plain.plain_http = true;
  config->listeners.push_back(plain);
  auto app = App::Open(*config, "test", App::Role::kServer);
  ASSERT_TRUE(app) << app.error().message;

  // Set by on_ready, or empty when Serve returned without being ready.
  std::promise<std::optional<App::Serving>> ready;
  int calls = 0;  // on_ready runs on the thread that called Serve
  App::ServeOptions options;
  options.on_ready = [&](const App::Serving& serving) {
    if (++calls == 1) ready.set_value(serving);
  };
  Status served = Ok();
  std::thread server([&] {
    served = (*app)->Serve(options);
    if (calls == 0) ready.set_value(std::nullopt);
  });
  const std::optional<App::Serving> serving = ready.get_future().get();
  if (serving) {
    EXPECT_EQ(serving->devices.size(), config->listeners.size());
    for (const auto& l : serving->devices) EXPECT_NE(l.port, 0) << l.name;
    EXPECT_EQ(serving->admin.size(), config->admin.size());
    for (const auto& l : serving->admin) EXPECT_NE(l.port, 0) << l.name;
    EXPECT_EQ(serving->devices.back().name, "plain");
    // Nothing identifies this request, so the answer is the uniform refusal; any answer at
    // all shows the listener serves.
    const std::string response = Fetch(serving->devices.back().port, "/y000000000000.cfg");
    EXPECT_TRUE(response.starts_with("HTTP/1.1 ")) << response;
    serving->stop();
  }
  server.join();
  EXPECT_TRUE(serving.has_value()) << "Serve returned without reporting readiness";
  EXPECT_TRUE(served) << served.error().message;
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace provgate::app
