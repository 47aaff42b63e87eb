#include "pipeline/render_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "crypto/random.hpp"

namespace provgate::pipeline {
namespace {

// line1..line16 are reserved render context names (docs/templates.md, service/vars.cpp).
constexpr int kMaxLineAlias = 16;

// The provisioning URL without its scheme and trailing slashes ("prov.example.net/p"), for
// vendors that take host/path and the protocol as separate settings (Grandstream P237/P212).
std::string HostPath(std::string_view url) {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  while (url.ends_with('/')) url.remove_suffix(1);
  return std::string(url);
}

}  // namespace

bool ChoosesAdminPassword(const nlohmann::json& vars) {
  if (!vars.is_object()) return false;
  const auto set = vars.find("admin_password");
  return set != vars.end() && !(set->is_string() && set->get_ref<const std::string&>().empty());
}

Result<std::string> GenerateAdminPassword() {
  return crypto::RandomPassword(kAdminPasswordLength, "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789");
}

std::string RenderFile(const render::TemplateSet& templates, const render::Template& tpl,
                       const vendors::FileRoute& route, const core::Device& device, const core::Tenant& tenant,
                       const std::vector<core::Line>& lines, std::string_view file_name,
                       const std::string& provisioning_url, std::uint64_t data_generation) {
  nlohmann::json ctx = templates.BaseVars(device.vendor, device.model);
  render::MergeVars(ctx, tenant.vars);
  ctx["tenant"] = {{"name", tenant.name}, {"display_name", tenant.display_name}};
  ctx["file"] = {{"name", file_name},
                 {"model_hint", route.model_hint},
                 {"content_version", fmt::format("{:010d}", kContentVersionBase + data_generation)}};
  ctx["server"] = {{"provisioning_url", provisioning_url},
                   {"provisioning_host_path", HostPath(provisioning_url)},
                   {"provisioning_https", provisioning_url.starts_with("https://")}};

  // Common files are shared by many devices: no device data, no lines, no secrets.
  if (route.scope == vendors::FileScope::kDevice) {
    render::MergeVars(ctx, device.vars);
    // The generated web-UI password, unless a variable of any layer chose one.
    if (device.admin_password && !ChoosesAdminPassword(ctx)) ctx["admin_password"] = *device.admin_password;
    // The vendor config-encryption key reaches templates only in device files, which only
    // the authenticated device gets (docs/encryption.md).
    if (device.config_key) ctx["config_key"] = *device.config_key;
    ctx["device"] = {
        {"mac", device.mac.str()}, {"mac_upper", device.mac.Upper()}, {"mac_colons", device.mac.WithColons()},
        {"vendor", device.vendor}, {"model", device.model},           {"serial", device.serial}};
    nlohmann::json jl = nlohmann::json::array();
    // The device's distinct (registrar, port, transport) in order of first use, for vendors
    // that define a server once and point lines at it (Gigaset SipProvider.N).
    nlohmann::json servers = nlohmann::json::array();
    std::vector<std::tuple<std::string, int, core::Transport>> seen;
    for (const auto& l : lines) {
      const auto key = std::make_tuple(l.registrar, l.port, l.transport);
      const auto found = std::find(seen.begin(), seen.end(), key);
      const int server_index = static_cast<int>(found - seen.begin());
      if (found == seen.end()) {
        seen.push_back(key);
        servers.push_back({{"index", server_index},
                           {"registrar", l.registrar},
                           {"port", l.port},
                           {"transport", core::TransportName(l.transport)},
                           {"is_udp", l.transport == core::Transport::kUdp},
                           {"is_tcp", l.transport == core::Transport::kTcp},
                           {"is_tls", l.transport == core::Transport::kTls}});
      }
      nlohmann::json j = {{"index", l.index},
                          {"server_index", server_index},
                          {"display_name", l.display_name},
                          {"user", l.user},
                          {"auth_user", l.auth_user.empty() ? l.user : l.auth_user},
                          {"registrar", l.registrar},
                          {"port", l.port},
                          {"transport", core::TransportName(l.transport)},
                          {"is_udp", l.transport == core::Transport::kUdp},
                          {"is_tcp", l.transport == core::Transport::kTcp},
                          {"is_tls", l.transport == core::Transport::kTls}};
      if (l.password) j["password"] = *l.password;
      // Also under "line<N>" for vendors whose keys a template cannot derive from the index
      // (Htek P-values); indexes outside 1-16 (the reserved names) get no alias.
      if (l.index >= 1 && l.index <= kMaxLineAlias) ctx["line" + std::to_string(l.index)] = j;
      jl.push_back(std::move(j));
    }
    ctx["lines"] = std::move(jl);
    ctx["servers"] = std::move(servers);
  }
  return tpl.Render(ctx, route.format);
}

}  // namespace provgate::pipeline
