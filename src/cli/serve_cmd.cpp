#include <spdlog/spdlog.h>

#include "cli/commands.hpp"

namespace provgate::cli {

void AddServeCommand(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* cmd = root.add_subcommand(
      "serve", "Run the device-facing HTTPS listeners of the config file until SIGINT/SIGTERM. "
               "The rendered configs are linted first; error findings stop the start");
  static bool force = false;
  cmd->add_flag("--force", force, "Serve even when the start-up lint finds errors (they are logged)");
  cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g, app::App::Role::kServer);
      if (!a) return 1;
      if (auto lint = a->CheckTemplates(); !lint) {
        if (!force) return Fail(lint.error());
        spdlog::warn("serving despite lint errors (--force)");
      }
      auto st = a->Serve();
      return st ? 0 : Fail(st.error());
    };
  });
}

}  // namespace provgate::cli
