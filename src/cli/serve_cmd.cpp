#include <spdlog/spdlog.h>

#include "cli/commands.hpp"

namespace provgate::cli {

void AddServeCommand(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* cmd = root.add_subcommand("serve",
                                  "Run the device-facing HTTPS listeners of the config file until SIGINT/SIGTERM. "
                                  "The rendered configs are linted first; a device whose config has an error "
                                  "finding is served nothing (logged as an ALERT) until it is fixed");
  static bool force = false;
  cmd->add_flag("--force", force, "Serve devices even when their configs fail the start-up lint (logged)");
  cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g, app::App::Role::kServer);
      if (!a) return 1;
      if (!force) {
        auto withheld = a->CheckTemplates();
        if (!withheld) return Fail(withheld.error());
        if (*withheld > 0) {
          spdlog::error(
              "{} device(s) withheld by the start-up lint (listed above); fix their variables "
              "(provgate lint, provgate device vars set) and they are served again",
              *withheld);
        }
      } else {
        spdlog::warn("serving without the start-up lint (--force)");
      }
      auto st = a->Serve();
      return st ? 0 : Fail(st.error());
    };
  });
}

}  // namespace provgate::cli
