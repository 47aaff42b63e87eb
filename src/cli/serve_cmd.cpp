#include "cli/commands.hpp"

namespace provgate::cli {

void AddServeCommand(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* cmd = root.add_subcommand(
      "serve", "Run the device-facing HTTPS listeners of the config file until SIGINT/SIGTERM");
  cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto st = a->Serve();
      return st ? 0 : Fail(st.error());
    };
  });
}

}  // namespace provgate::cli
