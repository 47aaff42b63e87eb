#include <fmt/format.h>
#include <fmt/ranges.h>

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
  add_cmd
      ->add_option("--window-days", add.window_days, "Days a device's provisioning window stays open after assignment")
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

  static service::TenantPolicyChange change;
  static std::string set_name;
  auto* set = tenant->add_subcommand("set", "Change a tenant's provisioning and password policy");
  set->add_option("name", set_name, "Tenant name")->required();
  set->add_option("--window-days", change.window_days, "Provisioning window after assignment (1-365)");
  set->add_option("--password-policy", change.password_policy,
                  "deliver-once (one response ever carries a SIP password), until-confirmed, or "
                  "always (for devices that cannot keep a password)");
  set->add_option("--confirm-grace", change.confirm_grace_seconds,
                  "Seconds after delivery until a password counts as confirmed and is wiped; 0 = "
                  "the device's next fetch confirms");
  set->add_option("--password-length", change.password_length, "Generated SIP password length (12-64)");
  set->add_option("--password-alphabet", change.password_alphabet,
                  "Characters generated passwords use (some phones reject some); empty = default");
  set->add_option("--retention-days", change.retention_days,
                  "Days after which secrets of expired/retired devices are purged");
  set->add_option("--min-strength", change.min_strength, "Weakest identity accepted: client-cert, token, digest or ip");
  set->add_option("--ip-ranges", change.ip_ranges,
                  "Source ranges (CIDR, comma-separated) every request must come from; '' clears")
      ->delimiter(',');
  set->add_option("--ip-as-identity", change.ip_as_identity,
                  "true: a source range alone may identify a device (the weakest method)");
  set->add_option("--allow-plain-http", change.allow_plain_http,
                  "true: devices may use plain-HTTP listeners, with HTTP digest only (a URL token would "
                  "cross the network in clear); a device's own file goes there only encrypted, after "
                  "one plain copy over TLS");
  set->add_option("--anomaly-lock", change.anomaly_lock,
                  "false: do not lock devices that change network or show up late");
  set->add_option("--lock-on-misuse", change.lock_on_misuse,
                  "true: lock a device whose own certificate or URL token asks for another "
                  "device's files (default false: refused and alerted only)");
  set->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto t = a->admin().UpdateTenantPolicy(set_name, change);
      if (!t) return Fail(t.error());
      fmt::print(
          "tenant {}: window {} days, passwords {}, confirmation {}, length {}, retention {} days\n", t->name,
          t->window_days, core::PasswordPolicyName(t->password_policy),
          t->confirm_grace_seconds == 0 ? std::string("next fetch") : std::to_string(t->confirm_grace_seconds) + " s",
          t->password_length, t->retention_days);
      const auto ranges = t->ip_ranges.ToStrings();
      fmt::print(
          "  identity: weakest accepted {}, source ranges {}, a range alone identifies {}, plain HTTP {}, "
          "anomaly lock {}, lock on misuse {}\n",
          core::IdentityStrengthName(t->min_strength),
          ranges.empty() ? "any" : fmt::format("{}", fmt::join(ranges, ",")), t->ip_as_identity ? "yes" : "no",
          t->allow_plain_http ? "allowed" : "refused", t->anomaly_lock ? "on" : "off",
          t->lock_on_misuse ? "on" : "off");
      return 0;
    };
  });
}

}  // namespace provgate::cli
