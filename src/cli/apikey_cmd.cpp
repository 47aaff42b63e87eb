// provgate apikey add|list|revoke: operator API keys for the admin listener (docs/api.md).
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "service/api_keys.hpp"

namespace provgate::cli {
namespace {

std::string When(const std::optional<std::int64_t>& t) { return t ? FormatRfc3339(FromUnix(*t)) : "-"; }

service::ApiKeys KeysOf(app::App& a, const std::string& actor) {
  return service::ApiKeys(a.operator_store(), a.store(), a.audit(), a.clock(), actor);
}

std::string Actor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user ? user : "unknown");
}

}  // namespace

void AddApiKeyCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* cmd = root.add_subcommand("apikey", "Operator API keys for the admin REST API");
  cmd->require_subcommand(1);

  struct AddArgs {
    std::string role, tenant, name;
    int expires_days = 0;
  };
  static AddArgs add;
  auto* add_cmd = cmd->add_subcommand("add", "Create an API key and print it once (only its SHA-256 is stored)");
  add_cmd->add_option("--role", add.role, "admin, tenant-admin, support or auditor")->required();
  add_cmd->add_option("--tenant", add.tenant,
                      "Confine the key to this tenant (tenant-admin: required; admin: not allowed)");
  add_cmd->add_option("--expires-days", add.expires_days, "Days until the key stops working (0 = never)")
      ->capture_default_str();
  add_cmd->add_option("--name", add.name, "A label for listings, e.g. the system that uses it");
  add_cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto keys = KeysOf(*a, Actor());
      auto k = keys.Add(add.role, add.tenant, add.expires_days, add.name);
      if (!k) return Fail(k.error());
      fmt::print(stderr, "API key {} ({}{}) created; it is shown once, store it now:\n", k->record.prefix,
                 k->record.role, k->tenant_name.empty() ? "" : ", tenant " + k->tenant_name);
      fmt::print("{}\n", k->key);
      return 0;
    };
  });

  cmd->add_subcommand("list", "List API keys (never the keys themselves)")->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto keys = KeysOf(*a, Actor());
      auto list = keys.List();
      if (!list) return Fail(list.error());
      fmt::print("{:<10} {:<13} {:<16} {:<25} {:<25} {:<25} {}\n", "KEY ID", "ROLE", "TENANT", "EXPIRES", "LAST USED",
                 "REVOKED", "NAME");
      for (const auto& v : *list) {
        const auto& r = v.record;
        fmt::print("{:<10} {:<13} {:<16} {:<25} {:<25} {:<25} {}\n", r.prefix, r.role,
                   v.tenant_name.empty() ? "-" : v.tenant_name, When(r.expires_at), When(r.last_used_at),
                   When(r.revoked_at), r.name);
      }
      return 0;
    };
  });

  static std::string revoke_id;
  auto* revoke = cmd->add_subcommand("revoke", "Revoke an API key; it stops working at once");
  revoke->add_option("key_id", revoke_id, "The key id (the 8 characters after pgk_, see: apikey list)")->required();
  revoke->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto keys = KeysOf(*a, Actor());
      if (auto st = keys.Revoke(revoke_id); !st) return Fail(st.error());
      fmt::print("API key {} revoked\n", revoke_id);
      return 0;
    };
  });
}

}  // namespace provgate::cli
