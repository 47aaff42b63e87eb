#include <fmt/format.h>

#include "cli/commands.hpp"

namespace provgate::cli {

void AddTenantCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* tenant = root.add_subcommand("tenant", "Manage tenants (customers)");
  tenant->require_subcommand(1);

  struct AddArgs {
    std::string name, display_name;
    int window_days = 14;
  };
  static AddArgs add;
  auto* add_cmd = tenant->add_subcommand("add", "Add a tenant");
  add_cmd->add_option("name", add.name, "Tenant name: lowercase letters, digits, '-'")->required();
  add_cmd->add_option("--display-name", add.display_name, "Human-readable name");
  add_cmd->add_option("--window-days", add.window_days,
                      "Days a device's provisioning window stays open after assignment")
      ->capture_default_str();
  add_cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto t = a->admin().AddTenant(add.name, add.display_name, add.window_days);
      if (!t) return Fail(t.error());
      fmt::print("tenant {} added (window {} days)\n", t->name, t->window_days);
      return 0;
    };
  });

  tenant->add_subcommand("list", "List tenants")->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto list = a->admin().ListTenants();
      if (!list) return Fail(list.error());
      fmt::print("{:<24} {:<32} {}\n", "NAME", "DISPLAY NAME", "WINDOW DAYS");
      for (const auto& t : *list) fmt::print("{:<24} {:<32} {}\n", t.name, t.display_name, t.window_days);
      return 0;
    };
  });
}

}  // namespace provgate::cli
