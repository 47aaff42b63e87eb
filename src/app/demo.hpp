// The embedded demo: a self-contained directory with a config, a demo device CA, a server
// certificate for localhost, a demo tenant and a few devices with client certificates and
// SIP lines, so a new user can fetch a real config with curl in one step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::app {

struct DemoDevice {
  std::string mac;
  std::string vendor;
  std::string model;
  std::string config_file;  // the per-device file this device fetches
  std::filesystem::path cert;
  std::filesystem::path key;
};

struct Demo {
  std::filesystem::path dir;
  std::filesystem::path config;
  std::filesystem::path ca_cert;
  std::uint16_t port = 0;
  std::vector<DemoDevice> devices;
  // The admin listener on loopback and the file holding the demo's admin API key (0600).
  std::uint16_t admin_port = 0;
  std::filesystem::path admin_key_file;
  // The demo operator's portal sign-in (user, password, TOTP secret, recovery codes; 0600).
  std::filesystem::path portal_login_file;
  // The directory already held a demo: kept as it was, described with its own ports.
  bool kept = false;
};

// The demo operator's portal user name.
inline constexpr std::string_view kDemoPortalUser = "demo";

// The admin port a demo gets when none is given: the device port + 1000 (8443 -> 9443),
// or ephemeral (0) when that does not fit or the device port is ephemeral.
std::uint16_t DefaultDemoAdminPort(std::uint16_t port);

// Creates the demo in `dir` unless it already exists there (then only describes it). The
// admin listener is on 127.0.0.1:`admin_port`; its admin API key is written once, to
// Demo::admin_key_file. With `store_url` the demo's data goes to that PostgreSQL database
// ([store] url) instead of an SQLite file in `dir`.
Result<Demo> InitDemo(const std::filesystem::path& dir, std::uint16_t port,
                      std::optional<std::uint16_t> admin_port = std::nullopt, const std::string& store_url = "");

// How to fetch each demo device's config with curl.
std::string DescribeDemo(const Demo& demo);

// Writes a demo CA (ca.crt/ca.key) and one client certificate per MAC into `out`; the MAC
// goes into the subject CN. Used by `provgate ca demo` and the tests.
Status WriteDemoCertificates(const std::filesystem::path& out, const std::vector<std::string>& macs);

}  // namespace provgate::app
