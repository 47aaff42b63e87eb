#include "service/lint.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <utility>

#include "pipeline/render_file.hpp"

namespace provgate::service {
namespace {

// Lower-case fragments that make a name secret wherever they appear in it.
constexpr std::array<std::string_view, 9> kSecretFragments = {
    "password", "passwd", "passphrase", "pwd", "secret", "key", "token", "credential", "access_code"};
// Words (between '.', '_' and '-') that make a name secret on their own: "pin" as a fragment
// would take in "ping" and "mapping".
constexpr std::array<std::string_view, 2> kSecretWords = {"pin", "puk"};

// Booleans (a flag such as aes_key_in_file) and empty strings ("not set") reveal nothing.
bool Reveals(const nlohmann::json& value) {
  if (value.is_boolean() || value.is_null()) return false;
  return !(value.is_string() && value.get_ref<const std::string&>().empty());
}

// Replaces the values of secret-named keys and of everything inside them, at any depth.
void MaskSecrets(nlohmann::json& vars, bool inside_secret = false) {
  if (!vars.is_object()) return;
  for (auto it = vars.begin(); it != vars.end(); ++it) {
    const bool secret = inside_secret || IsSecretVarName(it.key());
    if (it->is_object()) {
      MaskSecrets(*it, secret);
    } else if (secret && Reveals(*it)) {
      *it = std::string(kSecretPlaceholder);
    }
  }
}

lint::Finding Problem(std::string rule, std::string file, std::string message, std::string fix) {
  return lint::Finding{std::move(rule),    lint::Severity::kError, std::move(file), "",
                       std::move(message), std::move(fix)};
}

}  // namespace

core::Vars MaskSecretVars(core::Vars vars) {
  MaskSecrets(vars);
  return vars;
}

bool IsSecretVarName(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view fragment : kSecretFragments) {
    if (lower.find(fragment) != std::string::npos) return true;
  }
  std::size_t start = 0;
  while (start <= lower.size()) {
    const std::size_t end = std::min(lower.find_first_of("._-", start), lower.size());
    const std::string_view word = std::string_view(lower).substr(start, end - start);
    if (std::ranges::find(kSecretWords, word) != kSecretWords.end()) return true;
    start = end + 1;
  }
  return false;
}

Linter::Linter(store::Inventory& store, const vendors::Registry& vendors, const render::TemplateSet& templates,
               std::string provisioning_url)
    : store_(store), vendors_(vendors), templates_(templates), provisioning_url_(std::move(provisioning_url)) {}

Result<std::vector<core::Line>> Linter::LinesOf(const core::Device& device) const {
  return store_.ListLines(device.id);
}

DeviceFindings Linter::LintOne(const core::Device& device, const core::Tenant& tenant,
                               const std::vector<core::Line>& lines) const {
  DeviceFindings out{device.mac.str(), device.vendor, device.model, tenant.name, {}};
  const vendors::Vendor* vendor = vendors_.Find(device.vendor);
  if (vendor == nullptr) {
    out.findings.push_back(Problem("vendor-unknown", "", "no vendor module '" + device.vendor + "'",
                                   "re-add the device with a known --vendor"));
    return out;
  }

  // Work on copies: secrets are replaced before anything is rendered.
  core::Device d = device;
  core::Tenant t = tenant;
  MaskSecrets(d.vars);
  MaskSecrets(t.vars);
  // The key lives in the sealed device column or, set by an operator, in the device layer.
  if (d.config_key && !d.config_key->empty()) d.vars["config_key"] = std::string(kSecretPlaceholder);
  if (d.admin_password) d.admin_password = std::string(kSecretPlaceholder);
  const auto key = d.vars.find("config_key");
  const bool has_key = key != d.vars.end() && key->is_string() && !key->get_ref<const std::string&>().empty();
  std::vector<core::Line> masked = lines;
  for (auto& l : masked) {
    if (l.password) l.password = std::string(kSecretPlaceholder);
  }

  std::vector<lint::RenderedFile> files;
  for (const std::string& name : vendor->BootFiles(d.mac, d.model)) {
    auto route = vendor->Route(name);
    if (!route) continue;  // BootFiles promises routable names; nothing to render otherwise
    if (auto scheme = vendor->Encryption(*route); scheme && scheme->required && !has_key) continue;
    const render::Template* tpl = templates_.Find(d.vendor, route->template_name);
    if (tpl == nullptr) {
      out.findings.push_back(Problem(
          "template-missing", name,
          "no template " + d.vendor + "/" + route->template_name + ".mustache: the phone gets 404 for this file",
          "restore the shipped template in the templates directory"));
      continue;
    }
    files.push_back(
        {name, *route, pipeline::RenderFile(templates_, *tpl, *route, d, t, masked, name, provisioning_url_, 0)});
  }
  lint::LintContext context{has_key, d.model, {}};
  for (const auto& l : lines) {
    context.lines.push_back({l.index, l.registrar, l.port, std::string(core::TransportName(l.transport))});
  }
  auto findings = lint::LintDevice(*vendor, files, context);
  out.findings.insert(out.findings.end(), std::make_move_iterator(findings.begin()),
                      std::make_move_iterator(findings.end()));
  return out;
}

Result<std::vector<DeviceFindings>> Linter::LintDevices(const std::string& tenant_name,
                                                        const std::string& mac_text) const {
  std::vector<core::Device> devices;
  std::optional<core::Tenant> only_tenant;
  if (!tenant_name.empty()) {
    auto t = store_.FindTenant(tenant_name);
    if (!t) {
      if (t.error().code == ErrorCode::kNotFound) {
        return Error::NotFound("unknown tenant '" + tenant_name + "' (see: provgate tenant list)");
      }
      return t.error();
    }
    only_tenant = std::move(*t);
  }
  if (!mac_text.empty()) {
    auto mac = core::MacAddress::Parse(mac_text);
    if (!mac) return Error::InvalidArgument("'" + mac_text + "' is not a MAC address: " + mac.error().message);
    auto d = store_.FindDevice(*mac);
    if (!d) {
      if (d.error().code == ErrorCode::kNotFound) return Error::NotFound("no device with MAC " + mac->str());
      return d.error();
    }
    if (only_tenant && d->tenant_id != only_tenant->id) {
      return Error::NotFound("device " + mac->str() + " does not belong to tenant '" + tenant_name + "'");
    }
    devices.push_back(std::move(*d));
  } else {
    store::DeviceFilter filter;
    if (only_tenant) filter.tenant_id = only_tenant->id;
    PG_TRY(auto all, store_.ListDevices(filter));
    for (auto& d : all) {
      if (d.tenant_id && d.state != core::DeviceState::kRetired) devices.push_back(std::move(d));
    }
  }

  std::map<std::int64_t, core::Tenant> tenants;
  std::vector<DeviceFindings> out;
  for (const auto& d : devices) {
    core::Tenant tenant;  // stock devices: no tenant layer
    if (d.tenant_id) {
      auto it = tenants.find(*d.tenant_id);
      if (it == tenants.end()) {
        PG_TRY(auto t, store_.GetTenant(*d.tenant_id));
        it = tenants.emplace(*d.tenant_id, std::move(t)).first;
      }
      tenant = it->second;
    }
    PG_TRY(auto lines, LinesOf(d));
    out.push_back(LintOne(d, tenant, lines));
  }
  return out;
}

Result<std::vector<DeviceFindings>> Linter::LintRepresentatives(const core::Tenant& tenant) const {
  PG_TRY(auto representatives, store_.ListModelRepresentatives(tenant.id));
  std::vector<DeviceFindings> out;
  for (const auto& d : representatives) {
    PG_TRY(auto lines, LinesOf(d));
    out.push_back(LintOne(d, tenant, lines));
  }
  return out;
}

}  // namespace provgate::service
