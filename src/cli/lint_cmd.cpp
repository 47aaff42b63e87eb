#include <fmt/format.h>

#include "cli/commands.hpp"

namespace provgate::cli {

std::string FormatFinding(const std::string& mac, const lint::Finding& f) {
  return fmt::format("{} {} {} {}: {} (fix: {})", mac, f.file.empty() ? "-" : f.file, f.rule_id,
                     lint::SeverityName(f.severity), f.message, f.fix_hint);
}

service::Linter MakeLinter(app::App& a) {
  return service::Linter(a.store(), a.vendors(), a.templates(), a.config().provisioning_url);
}

void AddLintCommand(CLI::App& root, GlobalOptions& g, Handler& h) {
  struct Args {
    std::string tenant, mac;
  };
  static Args args;
  auto* cmd = root.add_subcommand("lint",
                                  "Render devices' configs as the server would and check them against the hardening "
                                  "rules (docs/lint.md); exit status 1 when an error-severity finding exists");
  cmd->add_option("--tenant", args.tenant, "Only this tenant's devices");
  cmd->add_option("--device", args.mac, "Only this device (MAC address)");
  cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      const service::Linter linter = MakeLinter(*a);
      auto result = linter.LintDevices(args.tenant, args.mac);
      if (!result) return Fail(result.error());
      size_t errors = 0;
      size_t warnings = 0;
      for (const auto& d : *result) {
        for (const auto& f : d.findings) {
          fmt::print("{}\n", FormatFinding(d.mac, f));
          (f.severity == lint::Severity::kError ? errors : warnings) += 1;
        }
      }
      fmt::print("lint: {} device(s), {} error(s), {} warning(s)\n", result->size(), errors, warnings);
      return errors > 0 ? 1 : 0;
    };
  });
}

}  // namespace provgate::cli
