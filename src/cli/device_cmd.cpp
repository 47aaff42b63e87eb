#include <fmt/format.h>

#include "cli/commands.hpp"

namespace provgate::cli {
namespace {

std::string FormatTime(const std::optional<std::int64_t>& t) {
  return t ? FormatRfc3339(FromUnix(*t)) : "-";
}

}  // namespace

void AddDeviceCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* device = root.add_subcommand("device", "Manage devices (phones, ATAs)");
  device->require_subcommand(1);

  static service::NewDevice add;
  auto* add_cmd = device->add_subcommand(
      "add", "Add a device; with --tenant it is assigned and its provisioning window opens");
  add_cmd->add_option("mac", add.mac, "MAC address (any common spelling)")->required();
  add_cmd->add_option("--vendor", add.vendor, "Vendor module, e.g. yealink, polycom")->required();
  add_cmd->add_option("--model", add.model, "Model, e.g. T54W, VVX450")->required();
  add_cmd->add_option("--tenant", add.tenant, "Tenant to assign the device to");
  add_cmd->add_option("--serial", add.serial, "Serial number");
  add_cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto d = a->admin().AddDevice(add);
      if (!d) return Fail(d.error());
      fmt::print("device {} added ({} {}, {})\n", d->mac.str(), d->vendor, d->model,
                 core::DeviceStateName(d->state));
      return 0;
    };
  });

  static std::string list_tenant, list_state;
  auto* list_cmd = device->add_subcommand("list", "List devices");
  list_cmd->add_option("--tenant", list_tenant, "Only this tenant's devices");
  list_cmd->add_option("--state", list_state, "Only devices in this state (stock, assigned, ...)");
  list_cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto list = a->admin().ListDevices(list_tenant, list_state);
      if (!list) return Fail(list.error());
      fmt::print("{:<14} {:<10} {:<10} {:<12} {}\n", "MAC", "VENDOR", "MODEL", "STATE", "WINDOW EXPIRES");
      for (const auto& d : *list) {
        fmt::print("{:<14} {:<10} {:<10} {:<12} {}\n", d.mac.str(), d.vendor, d.model,
                   core::DeviceStateName(d.state), FormatTime(d.window_expires));
      }
      return 0;
    };
  });

  static std::string show_mac;
  auto* show_cmd = device->add_subcommand("show", "Show one device and its lines (never passwords)");
  show_cmd->add_option("mac", show_mac, "MAC address")->required();
  show_cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto d = a->admin().ShowDevice(show_mac);
      if (!d) return Fail(d.error());
      const auto& dev = d->device;
      fmt::print("mac:            {}\nvendor:         {}\nmodel:          {}\nserial:         {}\n"
                 "tenant:         {}\nstate:          {}\nwindow opens:   {}\nwindow expires: {}\n",
                 dev.mac.str(), dev.vendor, dev.model, dev.serial.empty() ? "-" : dev.serial,
                 d->tenant ? d->tenant->name : "-", core::DeviceStateName(dev.state),
                 FormatTime(dev.window_opens), FormatTime(dev.window_expires));
      if (!dev.locked_reason.empty()) {
        fmt::print("locked:         {} (after checking, lift with: provgate device unlock {})\n",
                   dev.locked_reason, dev.mac.str());
      }
      fmt::print("key pin:        {}\n", dev.pin_spki.empty() ? "none yet (pinned on first fetch)"
                                                             : "sha256 " + dev.pin_spki);
      if (dev.last_seen_at) {
        fmt::print("last seen:      {} from {} ({}{})\n", FormatTime(dev.last_seen_at),
                   dev.last_seen_ip, dev.last_user_agent,
                   dev.firmware.empty() ? "" : ", firmware " + dev.firmware);
      }
      for (size_t i = 0; i < d->lines.size(); ++i) {
        const auto& l = d->lines[i];
        fmt::print("line {}:         {} <{}@{}:{};transport={}> password {}\n", l.index,
                   l.display_name, l.user, l.registrar, l.port, core::TransportName(l.transport),
                   d->has_password[i] ? "stored (encrypted)" : "none");
      }
      return 0;
    };
  });

  AddLifecycleCommands(*device, g, h);
  AddDeviceSecurityCommands(*device, g, h);

  static std::string remove_mac;
  auto* remove_cmd = device->add_subcommand("remove", "Remove a device and its lines");
  remove_cmd->add_option("mac", remove_mac, "MAC address")->required();
  remove_cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto st = a->admin().RemoveDevice(remove_mac);
      if (!st) return Fail(st.error());
      fmt::print("device {} removed\n", remove_mac);
      return 0;
    };
  });
}

}  // namespace provgate::cli
