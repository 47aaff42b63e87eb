#include <fmt/format.h>

#include "cli/commands.hpp"

namespace provgate::cli {

void AddLineCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* line = root.add_subcommand("line", "Manage a device's SIP lines");
  line->require_subcommand(1);

  static std::string mac;
  static service::LineChange c;
  static std::string password;
  auto* set = line->add_subcommand("set", "Create or replace a SIP line on a device");
  set->add_option("mac", mac, "Device MAC address")->required();
  set->add_option("index", c.index, "Line (account) number, 1-16")->required();
  set->add_option("--user", c.user, "SIP user name")->required();
  set->add_option("--auth-user", c.auth_user, "SIP authentication user (default: --user)");
  set->add_option("--registrar", c.registrar, "SIP registrar/proxy host")->required();
  set->add_option("--port", c.port, "SIP port")->capture_default_str();
  set->add_option("--transport", c.transport, "udp, tcp or tls")->capture_default_str();
  set->add_option("--display-name", c.display_name, "Name shown on the phone");
  auto* pw = set->add_option("--password", password,
                             "SIP password (prefer --generate-password: it keeps the secret out "
                             "of your shell history)");
  set->add_flag("--generate-password", c.generate_password, "Generate a strong password and print it once")
      ->excludes(pw);
  set->callback([&g, &h] {
    h = [&g] {
      if (!password.empty()) c.password = password;
      auto a = OpenApp(g);
      if (!a) return 1;
      auto generated = a->admin().SetLine(mac, c);
      if (!generated) return Fail(generated.error());
      fmt::print("line {} set on {}\n", c.index, mac);
      if (!generated->empty()) fmt::print("generated SIP password (shown once): {}\n", *generated);
      return 0;
    };
  });
}

}  // namespace provgate::cli
