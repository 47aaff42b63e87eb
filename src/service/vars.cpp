#include "service/vars.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <tuple>

namespace provgate::service {
namespace {

constexpr std::size_t kMaxKey = 128;
constexpr std::size_t kMaxValue = 1024;

// Values (leaves) in a layer, at any depth.
std::size_t CountValues(const nlohmann::json& layer) {
  if (!layer.is_object()) return 1;
  std::size_t n = 0;
  for (const auto& v : layer) n += CountValues(v);
  return n;
}

// A layer a change may leave: within kMaxLayerValues and kMaxLayerBytes. A change that only
// removes variables is always allowed, so that a layer set larger before (a file edited by
// hand) can be brought back within the bounds.
Status CheckLayerBounds(const core::Vars& layer) {
  const std::size_t values = CountValues(layer);
  const std::size_t bytes = layer.dump().size();
  if (values > kMaxLayerValues || bytes > kMaxLayerBytes) {
    return Error::InvalidArgument(fmt::format(
        "set: the layer would hold {} variables in {} bytes (JSON); a layer holds at most {} variables and {} "
        "bytes (docs/templates.md)",
        values, bytes, kMaxLayerValues, kMaxLayerBytes));
  }
  return Ok();
}

// Render-context names (docs/templates.md): top-level reserved keys and the line keys that
// inner contexts would shadow.
constexpr std::array<std::string_view, 18> kReserved = {
    "device",    "tenant",    "lines", "file",      "server", "servers", "index",  "display_name", "user",
    "auth_user", "registrar", "port",  "transport", "is_udp", "is_tcp",  "is_tls", "password",     "server_index"};

// "line1".."line16": each line again under its own name, in device files.
bool IsLineAlias(std::string_view name) {
  if (!name.starts_with("line")) return false;
  const std::string_view digits = name.substr(4);
  int n = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc() && ptr == digits.data() + digits.size() && !digits.starts_with('0') && n >= 1 && n <= 16;
}

std::vector<std::string> Segments(std::string_view key) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    out.emplace_back(key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// A finding's identity across renders: the message may quote a changed value.
using FindingId = std::tuple<std::string, std::string, std::string, std::string>;  // mac, rule, file, key

std::set<FindingId> Errors(const std::vector<DeviceFindings>& all) {
  std::set<FindingId> out;
  for (const auto& d : all) {
    for (const auto& f : d.findings) {
      if (f.severity == lint::Severity::kError) out.insert({d.mac, f.rule_id, f.file, f.key});
    }
  }
  return out;
}

// Error findings in `after` that `before` did not have, grouped per device.
std::vector<DeviceFindings> Introduced(const std::vector<DeviceFindings>& before,
                                       const std::vector<DeviceFindings>& after) {
  const auto known = Errors(before);
  std::vector<DeviceFindings> out;
  for (const auto& d : after) {
    DeviceFindings fresh{d.mac, d.vendor, d.model, d.tenant, {}};
    for (const auto& f : d.findings) {
      if (f.severity == lint::Severity::kError && !known.contains({d.mac, f.rule_id, f.file, f.key})) {
        fresh.findings.push_back(f);
      }
    }
    if (!fresh.findings.empty()) out.push_back(std::move(fresh));
  }
  return out;
}

// The keys of the change's KEY=VALUE texts, as given.
std::vector<std::string> SetKeys(const VarsChange& change) {
  std::vector<std::string> keys;
  for (const auto& s : change.set) keys.push_back(s.substr(0, s.find('=')));
  return keys;
}

// Audit detail: keys with their values (secret ones masked) and the error findings the
// change introduces (why it was refused, or what --force accepted).
nlohmann::json AuditDetail(const VarsChange& change, const std::vector<DeviceFindings>& introduced) {
  nlohmann::json set = nlohmann::json::object();
  for (const auto& text : change.set) {
    auto kv = ParseVarAssignment(text);
    if (!kv) continue;  // validated before; nothing to record otherwise
    set[kv->first] = std::move(kv->second);
  }
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& d : introduced) {
    for (const auto& f : d.findings) {
      findings.push_back({{"mac", d.mac}, {"rule", f.rule_id}, {"file", f.file}, {"key", f.key}});
    }
  }
  return {{"set", MaskSecretVars(std::move(set))},
          {"unset", change.unset},
          {"forced", change.force == Force::kYes},
          {"findings", std::move(findings)}};
}

}  // namespace

Status ValidateVarKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKey) {
    return Error::InvalidArgument(fmt::format("variable name must be 1-{} characters", kMaxKey));
  }
  for (char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) {
      return Error::InvalidArgument("variable name '" + std::string(key) +
                                    "' may only contain letters, digits, '_', '-' and '.'");
    }
  }
  const auto segments = Segments(key);
  for (const auto& s : segments) {
    if (s.empty()) return Error::InvalidArgument("variable name '" + std::string(key) + "' has an empty part");
  }
  if (std::ranges::find(kReserved, std::string_view(segments.front())) != kReserved.end() ||
      IsLineAlias(segments.front())) {
    return Error::InvalidArgument("'" + segments.front() +
                                  "' is a reserved render context name (docs/templates.md); choose another "
                                  "variable name");
  }
  return Ok();
}

nlohmann::json ParseVarValue(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (!text.empty() && text.size() <= 20) {
    std::int64_t n = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, n);
    // from_chars accepts no '+' and no spaces; leading zeros ("007") stay strings (TOML).
    const bool leading_zero = (text.front() == '0' && text.size() > 1) || text.starts_with("-0");
    if (ec == std::errc() && ptr == end && !leading_zero) return n;
  }
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    return std::string(text.substr(1, text.size() - 2));
  return std::string(text);
}

Result<std::pair<std::string, nlohmann::json>> ParseVarAssignment(std::string_view text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Error::InvalidArgument("'" + std::string(text.substr(0, 64)) + "' is not KEY=VALUE");
  }
  const std::string_view key = text.substr(0, eq);
  const std::string_view value = text.substr(eq + 1);
  PG_TRY_STATUS(ValidateVarKey(key));
  if (value.size() > kMaxValue) {
    return Error::InvalidArgument(fmt::format("value of '{}' is longer than {} bytes", key, kMaxValue));
  }
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return Error::InvalidArgument("value of '" + std::string(key) + "' must not contain control characters");
    }
  }
  return std::pair{std::string(key), ParseVarValue(value)};
}

Result<core::Vars> ApplyVarsChange(const core::Vars& layer, const VarsChange& change) {
  if (change.set.empty() && change.unset.empty()) return Error::InvalidArgument("nothing to set or unset");
  core::Vars out = layer.is_object() ? layer : core::Vars::object();
  for (const auto& text : change.set) {
    PG_TRY(auto kv, ParseVarAssignment(text));
    nlohmann::json* node = &out;
    const auto segments = Segments(kv.first);
    for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
      nlohmann::json& next = (*node)[segments[i]];
      if (!next.is_object()) next = nlohmann::json::object();  // a scalar becomes a table
      node = &next;
    }
    (*node)[segments.back()] = std::move(kv.second);
  }
  if (!change.set.empty()) {
    PG_TRY_STATUS(CheckLayerBounds(out));
  }
  for (const auto& key : change.unset) {
    PG_TRY_STATUS(ValidateVarKey(key));
    const auto segments = Segments(key);
    // Walk down, remembering the path so emptied tables can be pruned.
    std::vector<nlohmann::json*> path{&out};
    for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
      auto it = path.back()->find(segments[i]);
      if (it == path.back()->end() || !it->is_object()) return Error::NotFound("variable '" + key + "' is not set");
      path.push_back(&*it);
    }
    if (path.back()->erase(segments.back()) == 0) return Error::NotFound("variable '" + key + "' is not set");
    for (std::size_t i = path.size() - 1; i > 0 && path[i]->empty(); --i) path[i - 1]->erase(segments[i - 1]);
  }
  // json converts from anything, so the value alternative is named explicitly.
  return Result<core::Vars>(boost::system::in_place_value, std::move(out));
}

std::vector<std::string> ChangedKeys(const VarsChange& change) {
  std::vector<std::string> keys = SetKeys(change);
  keys.insert(keys.end(), change.unset.begin(), change.unset.end());
  return keys;
}

nlohmann::json VarsAt(const core::Vars& layer, const std::vector<std::string>& keys) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& key : keys) {
    const nlohmann::json* node = &layer;
    for (const auto& segment : Segments(key)) {
      if (node == nullptr || !node->is_object()) {
        node = nullptr;
        break;
      }
      const auto it = node->find(segment);
      node = it == node->end() ? nullptr : &*it;
    }
    out[key] = node != nullptr ? *node : nlohmann::json(nullptr);
  }
  return out;
}

Result<VarsOutcome> Admin::ChangeTenantVars(const Linter& linter, const std::string& name, const VarsChange& change) {
  PG_TRY(auto tenant, FindTenantInScope(name));
  PG_TRY(auto vars, ApplyVarsChange(tenant.vars, change));
  core::Tenant changed = tenant;
  changed.vars = std::move(vars);

  PG_TRY(auto before, linter.LintRepresentatives(tenant));
  PG_TRY(auto after, linter.LintRepresentatives(changed));
  VarsOutcome out;
  out.introduced = Introduced(before, after);
  out.keys_set = SetKeys(change);
  out.keys_unset = change.unset;
  auto detail = AuditDetail(change, out.introduced);
  detail["tenant"] = name;
  if (!out.introduced.empty() && change.force == Force::kNo) {
    PG_TRY_STATUS(Audit("tenant vars refused", "", tenant.id, std::move(detail)));
    return out;
  }
  PG_TRY_STATUS(store_.UpdateTenant(changed));
  PG_TRY_STATUS(Audit("tenant vars changed", "", tenant.id, std::move(detail)));
  out.saved = true;
  return out;
}

Result<VarsOutcome> Admin::ChangeDeviceVars(const Linter& linter, const std::string& mac, const VarsChange& change) {
  PG_TRY(auto device, FindDevice(mac));
  PG_TRY(auto vars, ApplyVarsChange(device.vars, change));
  core::Device changed = device;
  changed.vars = std::move(vars);

  core::Tenant tenant;  // a device in stock has no tenant layer
  if (device.tenant_id) {
    PG_TRY(tenant, store_.GetTenant(*device.tenant_id));
  }
  PG_TRY(auto lines, store_.ListLines(device.id));
  const std::vector<DeviceFindings> before{linter.LintOne(device, tenant, lines)};
  const std::vector<DeviceFindings> after{linter.LintOne(changed, tenant, lines)};
  VarsOutcome out;
  out.introduced = Introduced(before, after);
  out.keys_set = SetKeys(change);
  out.keys_unset = change.unset;
  if (!out.introduced.empty() && change.force == Force::kNo) {
    PG_TRY_STATUS(
        Audit("device vars refused", device.mac.str(), device.tenant_id, AuditDetail(change, out.introduced)));
    return out;
  }
  PG_TRY_STATUS(store_.UpdateDevice(changed));
  PG_TRY_STATUS(Audit("device vars changed", device.mac.str(), device.tenant_id, AuditDetail(change, out.introduced)));
  out.saved = true;
  return out;
}

Result<core::Vars> Admin::TenantVars(const std::string& name) {
  PG_TRY(auto tenant, FindTenantInScope(name));
  return Result<core::Vars>(boost::system::in_place_value, MaskSecretVars(tenant.vars));
}

Result<core::Vars> Admin::DeviceVars(const std::string& mac) {
  PG_TRY(auto device, FindDevice(mac));
  return Result<core::Vars>(boost::system::in_place_value, MaskSecretVars(device.vars));
}

}  // namespace provgate::service
