// provgate: the provisioning server and its operator CLI.
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "cli/commands.hpp"

namespace provgate::cli {

std::unique_ptr<app::App> OpenApp(const GlobalOptions& g, app::App::Role role) {
  auto config = app::LoadConfig(g.config);
  if (!config) {
    Fail(config.error());
    return nullptr;
  }
  const char* user = std::getenv("USER");
  auto a = app::App::Open(std::move(*config), std::string("cli:") + (user ? user : "unknown"), role);
  if (!a) {
    Fail(a.error());
    return nullptr;
  }
  return std::move(*a);
}

int Fail(const Error& e) {
  std::fprintf(stderr, "provgate: error: %s\n", e.message.c_str());
  return 1;
}

}  // namespace provgate::cli

int main(int argc, char** argv) {
  using namespace provgate::cli;
  CLI::App root{
      "provgate - a provisioning server for SIP phones that serves each config only to the "
      "authenticated device it belongs to.\n\nQuick start: provgate demo init --dir demo && "
      "provgate -c demo/provgate.toml serve"};
  root.require_subcommand(1);
  GlobalOptions g;
  if (const char* env = std::getenv("PROVGATE_CONFIG")) g.config = env;
  root.add_option("-c,--config", g.config, "Configuration file (env PROVGATE_CONFIG)")->capture_default_str();
  Handler handler;
  AddServeCommand(root, g, handler);
  AddTenantCommands(root, g, handler);
  AddDeviceCommands(root, g, handler);
  AddLineCommands(root, g, handler);
  AddCaCommands(root, g, handler);
  AddDemoCommands(root, g, handler);
  AddBanCommands(root, g, handler);
  AddLintCommand(root, g, handler);
  AddApiKeyCommands(root, g, handler);
  AddAuditCommands(root, g, handler);
  AddUserCommands(root, g, handler);
  AddDbCommands(root, g, handler);
  AddKeyCommands(root, g, handler);
  AddVarsCommands(*root.get_subcommand("tenant"), *root.get_subcommand("device"), g, handler);
  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return root.exit(e);
  }
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  try {
    return handler ? handler() : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "provgate: error: %s\n", e.what());
    return 1;
  }
}
