#include "app/demo.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "app/app.hpp"
#include "base/clock.hpp"
#include "crypto/random.hpp"
#include "portal/accounts.hpp"
#include "service/api_keys.hpp"
#include "tls/cert_factory.hpp"

namespace provgate::app {
namespace {

namespace fs = std::filesystem;

struct DemoSpec {
  const char* mac;
  const char* vendor;
  const char* model;
  const char* config_file;
  const char* display_name;
};

// Yealink and Polycom OUIs, so the demo looks like a real fleet.
constexpr DemoSpec kDemoDevices[] = {
    {"001565a1b2c3", "yealink", "T54W", "001565a1b2c3.cfg", "Reception"},
    {"805ec0d4e5f6", "yealink", "T46U", "805ec0d4e5f6.cfg", "Sales & Support"},
    {"0004f2a1b2c3", "polycom", "VVX_450", "0004f2a1b2c3-user.cfg", "Board <Room>"},
};

constexpr std::int64_t kYear = 365LL * 86400;

tls::CertSpec LeafSpec(std::vector<std::pair<std::string, std::string>> subject, bool server) {
  const auto now = ToUnix(SystemClock().Now());
  tls::CertSpec s;
  s.subject = std::move(subject);
  s.not_before = now - 3600;
  s.not_after = now + 2 * kYear;
  s.server_auth = server;
  return s;
}

Result<tls::CertAuthority> CreateDemoCa(const fs::path& out) {
  tls::CertSpec ca = LeafSpec({{"CN", "provgate demo device CA"}, {"O", "provgate demo"}}, false);
  ca.is_ca = true;
  ca.not_after = ca.not_before + 10 * kYear;
  PG_TRY(auto authority, tls::CertAuthority::Create(ca));
  PG_TRY_STATUS(authority.pem().WriteFiles(out / "ca.crt", out / "ca.key"));
  return authority;
}

Status WriteDeviceCert(const tls::CertAuthority& ca, const std::string& mac, const fs::path& out) {
  PG_TRY(auto pair, ca.Issue(LeafSpec({{"CN", mac}, {"O", "provgate demo device"}}, false)));
  return pair.WriteFiles(out / (mac + ".crt"), out / (mac + ".key"));
}

Status WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
  if (!f) return Error::Unavailable("cannot write " + p.string());
  return Ok();
}

// A file only its owner can read, for a secret shown once.
Status WriteSecretFile(const fs::path& p, const std::string& text) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Unavailable("cannot write " + p.string());
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written) return Error::Unavailable("cannot write " + p.string());
  return Ok();
}

Demo Describe(const fs::path& dir, std::uint16_t port, std::uint16_t admin_port) {
  Demo d;
  d.dir = fs::absolute(dir);
  d.config = d.dir / "provgate.toml";
  d.admin_port = admin_port;
  d.admin_key_file = d.dir / "admin-api-key";
  d.portal_login_file = d.dir / "portal-login";
  d.ca_cert = d.dir / "tls" / "ca.crt";
  d.port = port;
  for (const auto& s : kDemoDevices) {
    d.devices.push_back({s.mac, s.vendor, s.model, s.config_file, d.dir / "devices" / (std::string(s.mac) + ".crt"),
                         d.dir / "devices" / (std::string(s.mac) + ".key")});
  }
  return d;
}

// A demo already initialised keeps its keys, data and ports: `asked` described with the
// ports its config serves.
Result<Demo> KeptDemo(const Demo& asked) {
  PG_TRY(auto cfg, LoadConfig(asked.config));
  if (cfg.listeners.empty() || cfg.admin.empty()) {
    return Error::InvalidArgument(asked.config.string() +
                                  " has no device or admin listener: not a demo this command made; remove "
                                  "the directory or choose another with --dir");
  }
  Demo kept = Describe(asked.dir, cfg.listeners.front().port, cfg.admin.front().port);
  kept.kept = true;
  return kept;
}

}  // namespace

Status WriteDemoCertificates(const fs::path& out, const std::vector<std::string>& macs) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return Error::Unavailable("cannot create " + out.string() + ": " + ec.message());
  PG_TRY(auto ca, CreateDemoCa(out));
  for (const auto& m : macs) PG_TRY_STATUS(WriteDeviceCert(ca, m, out));
  return Ok();
}

std::uint16_t DefaultDemoAdminPort(std::uint16_t port) {
  return port != 0 && port <= 64535 ? static_cast<std::uint16_t>(port + 1000) : 0;
}

Result<Demo> InitDemo(const fs::path& dir, std::uint16_t port, std::optional<std::uint16_t> admin_port,
                      const std::string& store_url) {
  Demo demo = Describe(dir, port, admin_port.value_or(DefaultDemoAdminPort(port)));
  if (fs::exists(demo.config)) return KeptDemo(demo);
  // Written into a TOML basic string below: nothing that would end or escape it.
  if (store_url.find_first_of("\"\\\n\r") != std::string::npos) {
    return Error::InvalidArgument("the store URL must not contain quotes, backslashes or line breaks");
  }

  std::error_code ec;
  for (const char* sub : {"tls", "devices"}) {
    fs::create_directories(demo.dir / sub, ec);
    if (ec) return Error::Unavailable("cannot create " + (demo.dir / sub).string() + ": " + ec.message());
  }
  PG_TRY(auto ca, CreateDemoCa(demo.dir / "tls"));
  tls::CertSpec server = LeafSpec({{"CN", "localhost"}, {"O", "provgate demo"}}, true);
  server.san_dns = {"localhost"};
  server.san_ip = {"127.0.0.1", "::1"};
  PG_TRY(auto server_pair, ca.Issue(server));
  PG_TRY_STATUS(server_pair.WriteFiles(demo.dir / "tls" / "server.crt", demo.dir / "tls" / "server.key"));
  for (const auto& s : kDemoDevices) PG_TRY_STATUS(WriteDeviceCert(ca, s.mac, demo.dir / "devices"));

  // The config is written last: its presence marks a complete demo.
  const std::string config = fmt::format(
      R"(# provgate demo configuration (generated by `provgate demo init`).
# Every key is documented in docs/configuration.md.

[server]
provisioning_url = "https://localhost:{0}/"

[store]
path = "provgate.db"
{2}master_key = "master.key"

[audit]
file = "audit.log"

[identity]
# Where the MAC sits in device certificates, tried in order.
mac_rules = ["subject:CN", "subject:serialNumber", "subject:ST", "san:uri:prefix=urn:dev:mac:", "san:dns"]

[[listener]]
name = "devices"
bind = "127.0.0.1"
port = {0}
cert = "tls/server.crt"
key = "tls/server.key"
client_cert = "required"
trust_anchors = ["tls/ca.crt"]

# The operator plane (REST API, /metrics, /healthz, /readyz; docs/api.md), on loopback only.
[[admin]]
name = "admin"
bind = "127.0.0.1"
port = {1}
cert = "tls/server.crt"
key = "tls/server.key"
)",
      port, demo.admin_port, store_url.empty() ? "" : fmt::format("url = \"{}\"\n", store_url));
  const fs::path tmp = demo.dir / "provgate.toml.tmp";
  PG_TRY_STATUS(WriteFile(tmp, config));
  PG_TRY(auto cfg, LoadConfig(tmp));
  {
    PG_TRY(auto app, App::Open(cfg, "demo-init"));
    auto& admin = app->admin();
    auto tenant = admin.AddTenant("demo", "Demo Customer Ltd", 14);
    if (!tenant && tenant.error().code != ErrorCode::kAlreadyExists) return tenant.error();
    int extension = 2001;
    for (const auto& s : kDemoDevices) {
      auto dev = admin.AddDevice({s.mac, s.vendor, s.model, "demo", ""});
      if (!dev && dev.error().code != ErrorCode::kAlreadyExists) return dev.error();
      service::LineChange line;
      line.index = 1;
      line.display_name = s.display_name;
      line.user = std::to_string(extension++);
      line.registrar = "sip.demo.example";
      line.generate_password = true;
      PG_TRY(auto ignored_password, admin.SetLine(s.mac, line));
      (void)ignored_password;
    }
    // The demo operator's key, shown once: kept in a file only its owner can read.
    service::ApiKeys keys(app->operator_store(), app->store(), app->audit(), app->clock(), "demo-init");
    PG_TRY(auto key, keys.Add("admin", "", 0, "demo admin"));
    PG_TRY_STATUS(WriteSecretFile(demo.admin_key_file, key.key + "\n"));
    // The demo operator's portal sign-in, shown once the same way.
    PG_TRY(const std::string password, crypto::RandomPassword(20, crypto::kDefaultPasswordAlphabet));
    portal::Accounts accounts(app->portal_users(), app->store(), app->secret_box(), app->audit(), app->clock());
    PG_TRY(auto user, accounts.AddUser(std::string(kDemoPortalUser), "admin", "", password, "demo-init"));
    std::string login = fmt::format("user: {}\npassword: {}\ntotp-secret: {}\notpauth-uri: {}\n", user.user.name,
                                    password, user.totp_secret, user.otpauth_uri);
    for (const auto& code : user.recovery_codes) login += "recovery-code: " + code + "\n";
    PG_TRY_STATUS(WriteSecretFile(demo.portal_login_file, login));
  }
  fs::rename(tmp, demo.config, ec);
  if (ec) return Error::Unavailable("cannot write " + demo.config.string() + ": " + ec.message());
  return demo;
}

std::string DescribeDemo(const Demo& demo) {
  std::string out = fmt::format(
      "provgate demo in {}\n  config:  {}\n  device CA: {}\n\nFetch a device's config (its "
      "client certificate proves which device it is):\n",
      demo.dir.string(), demo.config.string(), demo.ca_cert.string());
  for (const auto& d : demo.devices) {
    out +=
        fmt::format("\n  # {} {} ({})\n  curl --cacert {} --cert {} --key {} https://localhost:{}/{}\n", d.vendor,
                    d.model, d.mac, demo.ca_cert.string(), d.cert.string(), d.key.string(), demo.port, d.config_file);
  }
  const auto& a = demo.devices.front();
  const auto& b = demo.devices[1];  // the same vendor, so the path is a valid file name
  out +=
      "\nA device's first fetch carries its SIP password; later fetches leave it out and the phone "
      "keeps\nthe one it stored (the default policy, deliver-once: docs/lifecycle.md). `provgate "
      "device reactivate\nMAC` gives a device new passwords and a new window.\n";
  out += fmt::format(
      "\nAsking for another device's file gets the same 404 as an unknown device:\n"
      "  curl --cacert {} --cert {} --key {} https://localhost:{}/{}\n"
      "The server also logs an ALERT and audits it: a device's own certificate asking for another "
      "device's\nfile means its key may be in someone else's hands (docs/security.md).\n",
      demo.ca_cert.string(), a.cert.string(), a.key.string(), demo.port, b.config_file);
  out += fmt::format("\nAudit trail: {}\n", (demo.dir / "audit.log").string());
  if (fs::exists(demo.admin_key_file)) {
    out += fmt::format(
        "\nAdmin API (docs/api.md) on https://localhost:{0}/api/v1/, with the demo admin key in {1}:\n"
        "  curl --cacert {2} -H \"Authorization: Bearer $(cat {1})\" https://localhost:{0}/api/v1/devices\n",
        demo.admin_port, demo.admin_key_file.string(), demo.ca_cert.string());
  }
  if (fs::exists(demo.portal_login_file)) {
    out += fmt::format(
        "\nWeb portal (docs/portal.md) on https://localhost:{}/portal/: user {}, with the password, the TOTP\n"
        "secret for an authenticator app and recovery codes in {}\n",
        demo.admin_port, kDemoPortalUser, demo.portal_login_file.string());
  }
  return out;
}

}  // namespace provgate::app
