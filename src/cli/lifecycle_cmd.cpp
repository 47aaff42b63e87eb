// provgate device assign|retire|reactivate|import|purge
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <vector>

#include "cli/commands.hpp"
#include "service/inventory.hpp"

namespace provgate::cli {
namespace {

int PrintState(const Result<core::Device>& d, const char* verb) {
  if (!d) return Fail(d.error());
  fmt::print("device {} {} (state {})\n", d->mac.str(), verb, core::DeviceStateName(d->state));
  return 0;
}

// Redraws one line on stderr when it is a terminal; large imports show progress there.
void DrawProgress(size_t done, size_t total) {
  if (total < 1000 || !::isatty(STDERR_FILENO)) return;
  const size_t width = 40;
  const size_t filled = total ? done * width / total : width;
  fmt::print(stderr, "\rimporting [{}{}] {}/{}", std::string(filled, '#'), std::string(width - filled, ' '), done,
             total);
  if (done == total) fmt::print(stderr, "\n");
}

}  // namespace

void AddLifecycleCommands(CLI::App& device, GlobalOptions& g, Handler& h) {
  static std::string mac, tenant;
  auto* assign = device.add_subcommand("assign", "Assign a stock device to a tenant; opens its provisioning window");
  assign->add_option("mac", mac, "Device MAC")->required();
  assign->add_option("--tenant", tenant, "Tenant")->required();
  assign->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      return a ? PrintState(a->admin().AssignDevice(mac, tenant), "assigned") : 1;
    };
  });

  auto* retire = device.add_subcommand("retire", "Take a device out of service: it gets nothing any more");
  retire->add_option("mac", mac, "Device MAC")->required();
  retire->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      return a ? PrintState(a->admin().RetireDevice(mac), "retired") : 1;
    };
  });

  auto* react = device.add_subcommand("reactivate",
                                      "New provisioning window, SIP passwords, URL token, digest password and config "
                                      "key, certificate pin cleared; old secrets stop working now");
  react->add_option("mac", mac, "Device MAC")->required();
  react->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto r = a->admin().ReactivateDevice(mac);
      if (!r) return Fail(r.error());
      fmt::print("device {} reactivated: window until {}, {} new SIP password(s)\n", r->device.mac.str(),
                 FormatRfc3339(FromUnix(r->device.window_expires.value_or(0))), r->new_passwords);
      fmt::print("URL token (shown once, only its hash is stored): {}\n", r->url_token);
      if (r->digest_password) fmt::print("new digest password (shown once): {}\n", *r->digest_password);
      if (r->config_key) fmt::print("new config key (shown once): {}\n", *r->config_key);
      if (r->pin_cleared) fmt::print("certificate pin cleared: the next authenticated fetch pins again\n");
      return 0;
    };
  });

  static std::string file;
  auto* import =
      device.add_subcommand("import",
                            "Import a shipping manifest (CSV, see docs/lifecycle.md): every row is checked first, "
                            "then all rows are imported in one transaction, or none");
  import->add_option("file", file, "CSV file ('-' for standard input)")->required();
  import->callback([&g, &h] {
    h = [&g] {
      std::ifstream file_in;
  if (file != "-") {
    file_in.open(file, std::ios::binary);
    if (!file_in) return Fail(Error::NotFound("cannot read " + file));
  }
  std::istream& in = file == "-" ? std::cin : file_in;
  auto a = OpenApp(g);
  if (!a) return 1;
  auto session = a->admin().StartImport();
  if (!session) return Fail(session.error());
  std::vector<char> buffer(64 * 1024);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (auto st = (*session)->Feed(std::string_view(buffer.data(), n)); !st) return Fail(st.error());
  }
  if (in.bad()) return Fail(Error::Unavailable("cannot read " + file));
  auto r = (*session)->Finish(DrawProgress);
  if (!r) return Fail(r.error());
  if (r->problem_count > 0) {
    for (const auto& p : r->problems) fmt::print(stderr, "{}:{}: {}\n", file, p.line, p.reason);
    if (r->problem_count > r->problems.size()) {
      fmt::print(stderr, "{}: ... and {} more\n", file, r->problem_count - r->problems.size());
    }
    fmt::print(stderr, "provgate: error: {} bad row(s); nothing was imported\n", r->problem_count);
    return 1;
  }
  fmt::print("imported {} device(s)\n", r->imported);
  return 0;
};
}  // namespace provgate::cli
);

static bool dry_run = false;
auto* purge =
    device.add_subcommand("purge",
                          "Wipe SIP passwords, URL tokens and variables of expired/retired devices past their "
                          "tenant's retention; audit records are kept");
purge->add_flag("--dry-run", dry_run, "Only list what would be purged");
purge->callback([&g, &h] {
  h = [&g] {
    auto a = OpenApp(g);
    if (!a) return 1;
    auto r = a->admin().PurgeSecrets(dry_run);
    if (!r) return Fail(r.error());
    for (const auto& m : *r) fmt::print("{}{}\n", m, dry_run ? " (would be purged)" : " purged");
    fmt::print("{} device(s){}\n", r->size(), dry_run ? " would be purged" : " purged");
    return 0;
  };
});
}

}  // namespace provgate::cli
