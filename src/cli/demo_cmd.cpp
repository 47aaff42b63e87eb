#include <filesystem>

#include <fmt/format.h>

#include "app/demo.hpp"
#include "cli/commands.hpp"

namespace provgate::cli {

void AddDemoCommands(CLI::App& root, GlobalOptions&, Handler& h) {
  auto* demo = root.add_subcommand("demo", "A ready-to-run demo installation");
  demo->require_subcommand(1);
  static std::string dir = "provgate-demo";
  static std::uint16_t port = 8443;
  static std::optional<std::uint16_t> admin_port;
  static std::string store_url;
  auto* init =
      demo->add_subcommand("init",
                           "Create a demo (config, demo CA, server and device certificates, a demo tenant with "
                           "devices and SIP lines) unless DIR already holds one, and print how to use it");
  init->add_option("--dir", dir, "Directory for the demo")->capture_default_str();
  init->add_option("--port", port, "HTTPS port of the demo listener")->capture_default_str();
  init->add_option("--admin-port", admin_port,
                   "HTTPS port of the demo admin listener on 127.0.0.1 (default: --port + 1000)");
  init->add_option("--store-url", store_url,
                   "Keep the demo's data in this PostgreSQL database (postgresql://...) instead of SQLite");
  init->callback([&h] {
    h = [] {
      auto d = app::InitDemo(dir, port, admin_port, store_url);
      if (!d) return Fail(d.error());
      fmt::print("{}", app::DescribeDemo(*d));
      if (d->kept) {
        fmt::print(
            "\n{} already held a demo: it is kept as it was, with its own ports (above). --port, "
            "--admin-port and\n--store-url apply only to a new demo: remove the directory to make one.\n",
            d->dir.string());
      }
      std::error_code ec;
      const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
      fmt::print("\nServe it with: {} -c {} serve\n", ec ? std::string("provgate") : self.string(), d->config.string());
      return 0;
    };
  });
}

}  // namespace provgate::cli
