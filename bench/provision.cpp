// provgate_bench_provision: adds the benchmark's simulated devices to a provgate
// installation through the same domain service the CLI uses (Admin), in one process.
// The CLI has no bulk import yet and `provgate device add` per device pays a process start
// and store open per phone; writing SQL behind the service's back would skip its rules and
// audit records and break whenever the schema moves.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <chrono>

#include "app/app.hpp"
#include "app/config.hpp"
#include "bench/device_certs.hpp"

namespace provgate::bench {
namespace {

struct Options {
  std::string config, certs, tenant = "demo", vendor = "yealink", model = "T54W", registrar = "sip.bench.example";
  std::uint64_t devices = 0;
};

int Run(const Options& o) {
  auto loaded = LoadManifest(o.certs);
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return 1;
  }
  std::vector<std::string> macs = std::move(loaded).value();
  if (o.devices != 0 && o.devices < macs.size()) macs.resize(o.devices);
  auto cfg = app::LoadConfig(o.config);
  if (!cfg) {
    fmt::print(stderr, "{}\n", cfg.error().message);
    return 1;
  }
  auto opened = app::App::Open(std::move(cfg).value(), "bench-provision");
  if (!opened) {
    fmt::print(stderr, "{}\n", opened.error().message);
    return 1;
  }
  const std::unique_ptr<app::App> a = std::move(opened).value();
  auto& admin = a->admin();
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t added = 0, present = 0;
  for (std::size_t i = 0; i < macs.size(); ++i) {
    const std::string& mac = macs[i];
    auto d = admin.AddDevice({mac, o.vendor, o.model, o.tenant, ""});
    if (!d) {
      if (d.error().code == ErrorCode::kAlreadyExists) {
        ++present;  // a rerun on the same installation: keep the device and its line
        continue;
      }
      fmt::print(stderr, "device {}: {}\n", mac, d.error().message);
      return 1;
    }
    service::LineChange line;
    line.index = 1;
    line.display_name = fmt::format("Bench {}", i);
    line.user = fmt::format("{}", 100000 + i);
    line.registrar = o.registrar;
    line.generate_password = true;
    if (auto p = admin.SetLine(mac, line); !p) {
      fmt::print(stderr, "line of {}: {}\n", mac, p.error().message);
      return 1;
    }
    ++added;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("{} devices added ({} already present) in {:.1f} s\n", added, present, secs);
  return 0;
}

}  // namespace
}  // namespace provgate::bench

int main(int argc, char** argv) {
  provgate::bench::Options o;
  CLI::App app("provgate_bench_provision: add the benchmark's devices (each with one SIP line) to a tenant");
  app.add_option("-c,--config", o.config, "provgate.toml of the installation")->required();
  app.add_option("--certs", o.certs, "Device set made by provgate_certgen (its manifest.txt)")->required();
  app.add_option("--devices", o.devices, "Only the first N devices (default all)");
  app.add_option("--tenant", o.tenant, "Existing tenant to assign them to")->capture_default_str();
  app.add_option("--vendor", o.vendor)->capture_default_str();
  app.add_option("--model", o.model)->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return provgate::bench::Run(o);
}
