#include <fmt/format.h>

#include "app/demo.hpp"
#include "base/clock.hpp"
#include "cli/commands.hpp"
#include "core/mac_address.hpp"
#include "tls/cert_factory.hpp"

namespace provgate::cli {
namespace {

struct IssueArgs {
  std::string ca_cert, ca_key, out_dir, field = "cn", prefix, key_type = "ecdsa";
  std::vector<std::string> macs;
  int valid_days = 730;
  bool expired = false;
};

// Puts the MAC where the chosen --field says, the way vendors' factory certificates do.
Result<tls::CertSpec> DeviceSpec(const IssueArgs& a, const core::MacAddress& mac) {
  tls::CertSpec s;
  const std::string value = a.prefix + mac.str();
  if (a.field == "cn") {
    s.subject = {{"CN", value}};
  } else if (a.field == "serialnumber") {
    s.subject = {{"CN", "device"}, {"serialNumber", value}};
  } else if (a.field == "st") {
    s.subject = {{"OU", "SPA-DEVICE"}, {"L", "SERIAL"}, {"ST", value}};  // Cisco "S=<mac>"
  } else if (a.field == "san-dns") {
    s.subject = {{"CN", "device"}};
    s.san_dns = {value};
  } else if (a.field == "san-uri") {
    s.subject = {{"CN", "device"}};
    s.san_uri = {value};
  } else {
    return Error::InvalidArgument("--field must be cn, serialnumber, st, san-dns or san-uri");
  }
  if (a.key_type == "rsa") {
    s.key_type = tls::KeyType::kRsa2048;
  } else if (a.key_type != "ecdsa") {
    return Error::InvalidArgument("--key-type must be ecdsa or rsa");
  }
  if (a.valid_days < 1) return Error::InvalidArgument("--valid-days must be at least 1");
  const auto now = ToUnix(SystemClock().Now());
  s.not_before = a.expired ? now - 2LL * a.valid_days * 86400 : now - 3600;
  s.not_after = a.expired ? now - 86400 : now + std::int64_t{a.valid_days} * 86400;
  return s;
}

int Issue(const IssueArgs& a) {
  auto ca = tls::CertAuthority::Load(a.ca_cert, a.ca_key);
  if (!ca) return Fail(ca.error());
  const std::filesystem::path out(a.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  for (const auto& text : a.macs) {
    auto mac = core::MacAddress::Parse(text);
    if (!mac) return Fail(Error::InvalidArgument("'" + text + "' is not a MAC address"));
    auto spec = DeviceSpec(a, *mac);
    if (!spec) return Fail(spec.error());
    auto pair = ca->Issue(*spec);
    if (!pair) return Fail(pair.error());
    auto st = pair->WriteFiles(out / (mac->str() + ".crt"), out / (mac->str() + ".key"));
    if (!st) return Fail(st.error());
    fmt::print("{}\n{}\n", (out / (mac->str() + ".crt")).string(), (out / (mac->str() + ".key")).string());
  }
  return 0;
}

}  // namespace

void AddCaCommands(CLI::App& root, GlobalOptions&, Handler& h) {
  auto* ca = root.add_subcommand("ca", "Certificates for testing: a demo device CA and device certificates");
  ca->require_subcommand(1);

  static std::string demo_out;
  static std::vector<std::string> demo_macs;
  auto* demo = ca->add_subcommand(
      "demo", "Generate a demo device CA (ca.crt, ca.key) and one client certificate per MAC (CN = MAC)");
  demo->add_option("--out", demo_out, "Output directory")->required();
  demo->add_option("--mac", demo_macs, "Device MAC (repeatable)")->required();
  demo->callback([&h] {
    h = [] {
      std::vector<std::string> canonical;
      for (const auto& m : demo_macs) {
        auto mac = core::MacAddress::Parse(m);
        if (!mac) return Fail(Error::InvalidArgument("'" + m + "' is not a MAC address"));
        canonical.push_back(mac->str());
      }
      auto st = app::WriteDemoCertificates(demo_out, canonical);
      if (!st) return Fail(st.error());
      fmt::print("demo CA and {} device certificate(s) written to {}\n", canonical.size(), demo_out);
      return 0;
    };
  });

  static IssueArgs issue;
  auto* is = ca->add_subcommand("issue", "Issue one device client certificate from an existing CA");
  is->add_option("--ca-cert", issue.ca_cert, "CA certificate (PEM)")->required();
  is->add_option("--ca-key", issue.ca_key, "CA private key (PEM)")->required();
  is->add_option("--mac", issue.macs, "Device MAC (repeatable: one certificate each)")->required();
  is->add_option("--out", issue.out_dir, "Output directory for <mac>.crt and <mac>.key")->required();
  is->add_option("--field", issue.field, "Where the MAC goes: cn, serialnumber, st, san-dns, san-uri")
      ->capture_default_str();
  is->add_option("--prefix", issue.prefix, "Text before the MAC, e.g. SEP or urn:dev:mac:");
  is->add_option("--key-type", issue.key_type, "ecdsa (P-256) or rsa (2048)")->capture_default_str();
  is->add_option("--valid-days", issue.valid_days, "Validity in days")->capture_default_str();
  is->add_flag("--expired", issue.expired, "Issue an already expired certificate (for tests)");
  is->callback([&h] { h = [] { return Issue(issue); }; });
}

}  // namespace provgate::cli
