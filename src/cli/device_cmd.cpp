#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.hpp"
#include "service/queries.hpp"
#include "vendors/vendor.hpp"

namespace provgate::cli {
namespace {

std::string FormatTime(const std::optional<std::int64_t>& t) { return t ? FormatRfc3339(FromUnix(*t)) : "-"; }

}  // namespace

void AddDeviceCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* device = root.add_subcommand("device", "Manage devices (phones, ATAs)");
  device->require_subcommand(1);

  static service::NewDevice add;
  auto* add_cmd =
      device->add_subcommand("add", "Add a device; with --tenant it is assigned and its provisioning window opens");
  add_cmd->add_option("mac", add.mac, "MAC address (any common spelling)")->required();
  static const std::string vendor_help =
      fmt::format("Vendor module: {}", fmt::join(vendors::BuiltinVendors().Names(), ", "));
  add_cmd->add_option("--vendor", add.vendor, vendor_help)->required();
  add_cmd->add_option("--model", add.model, "Model, e.g. T54W, VVX450")->required();
  add_cmd->add_option("--tenant", add.tenant, "Tenant to assign the device to");
  add_cmd->add_option("--serial", add.serial, "Serial number");
  add_cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto d = a->admin().AddDevice(add);
      if (!d) return Fail(d.error());
      fmt::print("device {} added ({} {}, {})\n", d->mac.str(), d->vendor, d->model, core::DeviceStateName(d->state));
      return 0;
    };
  });

  // The API's device listing (GET /api/v1/devices) with the same filters; every page
  // unless --limit asks for one.
  static service::DeviceListRequest list;
  static std::string list_locked;
  static std::int64_t seen_since = -1, seen_before = -1;
  static bool one_page = false;
  auto* list_cmd = device->add_subcommand("list", "List devices");
  list_cmd->add_option("--tenant", list.tenant, "Only this tenant's devices");
  list_cmd->add_option("--state", list.state, "Only devices in this state (stock, assigned, ...)");
  list_cmd->add_option("--vendor", list.vendor, "Only this vendor's devices");
  list_cmd->add_option("--model", list.model, "Only this model");
  list_cmd->add_option("--locked", list_locked, "true: only locked devices; false: only unlocked ones");
  list_cmd->add_option("--seen-since", seen_since, "Only devices seen at or after this unix time");
  list_cmd->add_option("--seen-before", seen_before, "Only devices not seen since this unix time");
  list_cmd->add_option("--cursor", list.cursor, "Start after this MAC (the next cursor of a page)");
  auto* limit = list_cmd->add_option("--limit", list.limit, "One page of at most this many (1-1000)");
  list_cmd->callback([&g, &h, limit] {
    one_page = limit->count() > 0;
    h = [&g] {
      if (!list_locked.empty()) {
        if (list_locked != "true" && list_locked != "false")
          return Fail(Error::InvalidArgument("--locked: true or false"));
        list.locked = list_locked == "true";
      }
      if (seen_since >= 0) list.seen_since = seen_since;
      if (seen_before >= 0) list.seen_before = seen_before;
      if (!one_page) list.limit = service::kMaxPageSize;
      auto a = OpenApp(g);
      if (!a) return 1;
      service::Queries queries(a->store(), a->operator_store(), a->clock(), std::nullopt);
      fmt::print("{:<14} {:<10} {:<10} {:<12} {:<16} {}\n", "MAC", "VENDOR", "MODEL", "STATE", "TENANT",
                 "WINDOW EXPIRES");
      for (;;) {
        auto page = queries.Devices(list);
        if (!page) return Fail(page.error());
        for (size_t i = 0; i < page->devices.size(); ++i) {
          const auto& d = page->devices[i].device;
          fmt::print("{:<14} {:<10} {:<10} {:<12} {:<16} {}{}\n", d.mac.str(), d.vendor, d.model,
                     core::DeviceStateName(d.state), page->tenant_names[i].empty() ? "-" : page->tenant_names[i],
                     FormatTime(d.window_expires), d.locked_reason.empty() ? "" : "  locked: " + d.locked_reason);
        }
        if (page->next_cursor.empty()) break;
        if (one_page) {
          fmt::print(stderr, "more: --cursor {}\n", page->next_cursor);
          break;
        }
        list.cursor = page->next_cursor;
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
      fmt::print(
          "mac:            {}\nvendor:         {}\nmodel:          {}\nserial:         {}\n"
          "tenant:         {}\nstate:          {}\nwindow opens:   {}\nwindow expires: {}\n",
          dev.mac.str(), dev.vendor, dev.model, dev.serial.empty() ? "-" : dev.serial,
          d->tenant ? d->tenant->name : "-", core::DeviceStateName(dev.state), FormatTime(dev.window_opens),
          FormatTime(dev.window_expires));
      if (!dev.locked_reason.empty()) {
        fmt::print("locked:         {} (after checking, lift with: provgate device unlock {})\n", dev.locked_reason,
                   dev.mac.str());
      }
      fmt::print("key pin:        {}\n",
                 dev.pin_spki.empty() ? "none yet (pinned on first fetch)" : "sha256 " + dev.pin_spki);
      if (dev.last_seen_at) {
        fmt::print("last seen:      {} from {} ({}{})\n", FormatTime(dev.last_seen_at), dev.last_seen_ip,
                   dev.last_user_agent, dev.firmware.empty() ? "" : ", firmware " + dev.firmware);
      }
      for (size_t i = 0; i < d->lines.size(); ++i) {
        const auto& l = d->lines[i];
        fmt::print("line {}:         {} <{}@{}:{};transport={}> password {}\n", l.index, l.display_name, l.user,
                   l.registrar, l.port, core::TransportName(l.transport),
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
