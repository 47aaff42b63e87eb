#include <fmt/format.h>

#include "cli/commands.hpp"
#include "service/vars.hpp"

namespace provgate::cli {
namespace {

enum class Layer { kTenant, kDevice };

// Flattens nested tables into dotted keys, the form `set` accepts.
void PrintVars(const nlohmann::json& vars, const std::string& prefix) {
  for (auto it = vars.begin(); it != vars.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) {
      PrintVars(*it, key);
    } else {
      fmt::print("{} = {}\n", key, it->dump());
    }
  }
}

int Report(const std::string& what, const service::VarsOutcome& out) {
  if (!out.saved) {
    std::fprintf(stderr,
                 "provgate: error: refused: the change to %s introduces error findings "
                 "(nothing saved; --force saves anyway):\n",
                 what.c_str());
    for (const auto& d : out.introduced) {
      for (const auto& f : d.findings) std::fprintf(stderr, "  %s\n", FormatFinding(d.mac, f).c_str());
    }
    return 1;
  }
  std::string keys;
  for (const auto& k : out.keys_set) keys += (keys.empty() ? "set " : ", ") + k;
  for (size_t i = 0; i < out.keys_unset.size(); ++i) {
    keys += (i == 0 ? std::string(keys.empty() ? "" : "; ") + "unset " : ", ") + out.keys_unset[i];
  }
  fmt::print("{}: {}\n", what, keys);
  if (!out.introduced.empty()) {
    fmt::print("saved with --force despite these error findings:\n");
    for (const auto& d : out.introduced) {
      for (const auto& f : d.findings) fmt::print("  {}\n", FormatFinding(d.mac, f));
    }
  }
  return 0;
}

void AddVars(CLI::App& parent, Layer layer, GlobalOptions& g, Handler& h) {
  struct Args {
    std::string target;
    service::VarsChange change;
    bool force = false;
  };
  // One instance per layer: CLI11 binds options to storage that outlives parsing.
  static Args tenant_args;
  static Args device_args;
  Args& args = layer == Layer::kTenant ? tenant_args : device_args;
  const bool tenant = layer == Layer::kTenant;
  const char* target_name = tenant ? "name" : "mac";
  const char* target_help = tenant ? "Tenant name" : "MAC address";

  auto* vars =
      parent.add_subcommand("vars", tenant ? "Show or change the tenant's template variables (docs/templates.md)"
                                           : "Show or change the device's template variables (docs/templates.md)");
  vars->require_subcommand(1);

  auto run_change = [&g, &args, layer] {
    auto a = OpenApp(g);
    if (!a) return 1;
    args.change.force = args.force ? service::Force::kYes : service::Force::kNo;
    const service::Linter linter = MakeLinter(*a);
    auto out = layer == Layer::kTenant ? a->admin().ChangeTenantVars(linter, args.target, args.change)
                                       : a->admin().ChangeDeviceVars(linter, args.target, args.change);
    if (!out) return Fail(out.error());
    return Report((layer == Layer::kTenant ? "tenant " : "device ") + args.target, *out);
  };

  auto* set = vars->add_subcommand("set",
                                   "Set variables: true/false become booleans, integers numbers, anything else text; "
                                   "refused if the rendered configs gain an error finding");
  set->add_option(target_name, args.target, target_help)->required();
  set->add_option("assignments", args.change.set, "KEY=VALUE ...")->required();
  set->add_flag("--force", args.force, "Save even if lint finds new errors (recorded in the audit log)");
  set->callback([&h, run_change] { h = run_change; });

  auto* unset = vars->add_subcommand("unset", "Remove variables (the lower layers' values apply again)");
  unset->add_option(target_name, args.target, target_help)->required();
  unset->add_option("keys", args.change.unset, "KEY ...")->required();
  unset->add_flag("--force", args.force, "Save even if lint finds new errors (recorded in the audit log)");
  unset->callback([&h, run_change] { h = run_change; });

  auto* show = vars->add_subcommand("show", "Print the variables of this layer (secrets masked)");
  show->add_option(target_name, args.target, target_help)->required();
  show->callback([&g, &h, &args, layer] {
    h = [&g, &args, layer] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto vars_now = layer == Layer::kTenant ? a->admin().TenantVars(args.target) : a->admin().DeviceVars(args.target);
      if (!vars_now) return Fail(vars_now.error());
      if (vars_now->empty()) fmt::print("(no variables on this layer)\n");
      PrintVars(*vars_now, "");
      return 0;
    };
  });
}

}  // namespace

void AddVarsCommands(CLI::App& tenant, CLI::App& device, GlobalOptions& g, Handler& h) {
  AddVars(tenant, Layer::kTenant, g, h);
  AddVars(device, Layer::kDevice, g, h);
}

}  // namespace provgate::cli
