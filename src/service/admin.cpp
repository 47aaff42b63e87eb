#include "service/admin.hpp"

#include <fmt/format.h>

#include "core/lifecycle.hpp"
#include "crypto/random.hpp"
#include "service/lint.hpp"

namespace provgate::service {
namespace {

constexpr int kMaxLines = 16;

Status ValidateText(const char* field, const std::string& v, size_t max) {
  if (v.size() > max) return Error::InvalidArgument(fmt::format("{} is longer than {} characters", field, max));
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return Error::InvalidArgument(fmt::format("{} must not contain control characters", field));
    }
  }
  return Ok();
}

}  // namespace

Status ValidateTenantName(const std::string& name) {
  if (name.empty() || name.size() > 64) return Error::InvalidArgument("tenant name must be 1-64 characters");
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return Error::InvalidArgument("tenant name '" + name + "' may only contain lowercase letters, digits and '-'");
    }
  }
  if (name.front() == '-') return Error::InvalidArgument("tenant name must not start with '-'");
  return Ok();
}

Admin::Admin(store::Inventory& inventory, store::DeviceWrites& writes, defense::BanStore& bans, audit::AuditLog& audit,
             const vendors::Registry& vendors, const Clock& clock, std::string actor, const Linter* linter)
    : store_(inventory),
      writes_(writes),
      bans_(bans),
      audit_(audit),
      vendors_(vendors),
      clock_(clock),
      linter_(linter),
      actor_(std::move(actor)) {}

Status Admin::RefuseLintErrors(const core::Device& device, const core::Tenant& tenant,
                               const std::vector<core::Line>& lines) const {
  if (linter_ == nullptr) return Ok();
  const auto result = linter_->LintOne(device, tenant, lines);
  std::string errors;
  for (const auto& f : result.findings) {
    if (f.severity != lint::Severity::kError) continue;
    errors += fmt::format("\n  {} {}: {} (fix: {})", f.file, f.rule_id, f.message, f.fix_hint);
  }
  if (errors.empty()) return Ok();
  return Error::FailedPrecondition(fmt::format(
      "device {} would get a config that fails the policy linter; nothing was saved:{}", device.mac.str(), errors));
}

Status Admin::Audit(const std::string& action, const std::string& mac, std::optional<std::int64_t> tenant_id,
                    nlohmann::json detail) {
  auto r = audit::InfoRecord(clock_.Now(), "admin", actor_, action, mac, std::move(detail));
  r.tenant_id = tenant_id.value_or(0);
  return audit_.Write(r, audit::Durability::kDurable);
}

Status Admin::RequirePlatform(const char* what) const {
  if (scope_) return Error::PermissionDenied(fmt::format("{} is not allowed to a tenant-scoped operator", what));
  return Ok();
}

Result<core::Tenant> Admin::FindTenantInScope(const std::string& name) {
  auto t = store_.FindTenant(name);
  if ((!t && t.error().code == ErrorCode::kNotFound) || (t && scope_ && t->id != scope_->id)) {
    return Error::NotFound("unknown tenant '" + name + "' (see: provgate tenant list)");
  }
  return t;
}

Result<core::Tenant> Admin::AddTenant(const std::string& name, const std::string& display_name, int window_days) {
  PG_TRY_STATUS(RequirePlatform("adding a tenant"));
  PG_TRY_STATUS(ValidateTenantName(name));
  PG_TRY_STATUS(ValidateText("display name", display_name, 200));
  if (window_days < 1 || window_days > 365) {
    return Error::InvalidArgument("window days must be between 1 and 365");
  }
  core::Tenant t;
  t.name = name;
  t.display_name = display_name.empty() ? name : display_name;
  t.window_days = window_days;
  PG_TRY(auto added, store_.AddTenant(t));
  PG_TRY_STATUS(Audit("tenant added", "", added.id, {{"tenant", name}, {"window_days", window_days}}));
  return added;
}

Result<std::vector<core::Tenant>> Admin::ListTenants() {
  if (scope_) {
    PG_TRY(auto own, store_.GetTenant(scope_->id));
    return std::vector<core::Tenant>{std::move(own)};
  }
  return store_.ListTenants();
}

Result<core::Device> Admin::FindDevice(const std::string& mac_text) {
  PG_TRY(auto mac, core::MacAddress::Parse(mac_text));
  auto d = store_.FindDevice(mac);
  // Another tenant's device is indistinguishable from an absent one.
  if ((!d && d.error().code == ErrorCode::kNotFound) || (d && scope_ && d->tenant_id != scope_->id)) {
    return Error::NotFound("no device with MAC " + mac.str());
  }
  return d;
}

Result<core::Device> Admin::AddDevice(const NewDevice& in) {
  auto mac = core::MacAddress::Parse(in.mac);
  if (!mac) return Error::InvalidArgument("'" + in.mac + "' is not a MAC address: " + mac.error().message);
  if (vendors_.Find(in.vendor) == nullptr) {
    std::string known;
    for (const auto& n : vendors_.Names()) known += (known.empty() ? "" : ", ") + n;
    return Error::InvalidArgument("unknown vendor '" + in.vendor + "'; known vendors: " + known);
  }
  PG_TRY_STATUS(ValidateText("model", in.model, 64));
  if (in.model.empty()) return Error::InvalidArgument("model is required (e.g. T54W, VVX450)");
  PG_TRY_STATUS(ValidateText("serial", in.serial, 64));

  if (scope_ && in.tenant.empty()) {
    return Error::InvalidArgument("tenant is required (a tenant-scoped operator adds to its own tenant)");
  }
  core::Device d{.mac = *mac};
  d.vendor = in.vendor;
  d.model = in.model;
  d.serial = in.serial;
  // Every device's web UI gets its own random admin password (sealed; never shown unless an
  // operator issues a new one), so no phone ships with the factory password.
  PG_TRY(d.admin_password, GenerateAdminPassword());
  if (!in.tenant.empty()) {
    PG_TRY(auto tenant, FindTenantInScope(in.tenant));
    const auto now = ToUnix(clock_.Now());
    d.tenant_id = tenant.id;
    d.state = core::DeviceState::kAssigned;
    d.window_opens = now;
    d.window_expires = now + std::int64_t{tenant.window_days} * 86400;
    PG_TRY_STATUS(RefuseLintErrors(d, tenant, {}));
  }
  PG_TRY(auto added, store_.AddDevice(d));
  PG_TRY_STATUS(Audit("device added", added.mac.str(), added.tenant_id,
                      {{"vendor", added.vendor},
                       {"model", added.model},
                       {"tenant", in.tenant},
                       {"state", core::DeviceStateName(added.state)}}));
  if (added.tenant_id) {
    PG_TRY_STATUS(LifecycleAudit(
        added, "assigned", {{"from", "stock"}, {"tenant", in.tenant}, {"window_expires", *added.window_expires}}));
  }
  return added;
}

Result<std::vector<core::Device>> Admin::ListDevices(const std::string& tenant, const std::string& state) {
  store::DeviceFilter f;
  if (!tenant.empty()) {
    PG_TRY(auto t, FindTenantInScope(tenant));
    f.tenant_id = t.id;
  } else if (scope_) {
    f.tenant_id = scope_->id;
  }
  std::optional<core::DeviceState> wanted;
  if (!state.empty()) {
    PG_TRY(wanted, core::ParseDeviceState(state));
  }
  PG_TRY(auto all, store_.ListDevices(f));
  // States are reported as they are now: an assigned device past its window is expired.
  const auto now = ToUnix(clock_.Now());
  std::vector<core::Device> out;
  for (auto& d : all) {
    d.state = core::EffectiveState(d, now);
    if (!wanted || d.state == *wanted) out.push_back(std::move(d));
  }
  return out;
}

Result<DeviceDetails> Admin::ShowDevice(const std::string& mac) {
  DeviceDetails out;
  PG_TRY(out.device, FindDevice(mac));
  out.device.state = core::EffectiveState(out.device, ToUnix(clock_.Now()));
  if (out.device.tenant_id) {
    PG_TRY(auto t, store_.GetTenant(*out.device.tenant_id));
    out.tenant = std::move(t);
  }
  PG_TRY(out.lines, store_.ListLines(out.device.id));
  for (auto& l : out.lines) {
    out.has_password.push_back(l.password.has_value());
    l.password.reset();
  }
  return out;
}

Status Admin::RemoveDevice(const std::string& mac) {
  PG_TRY(auto d, FindDevice(mac));
  PG_TRY_STATUS(store_.RemoveDevice(d.mac));
  return Audit("device removed", d.mac.str(), d.tenant_id, nlohmann::json::object());
}

Result<std::string> Admin::SetLine(const std::string& mac, const LineChange& c) {
  PG_TRY(auto d, FindDevice(mac));
  if (c.index < 1 || c.index > kMaxLines) {
    return Error::InvalidArgument(fmt::format("line index must be between 1 and {}", kMaxLines));
  }
  PG_TRY_STATUS(ValidateText("display name", c.display_name, 128));
  PG_TRY_STATUS(ValidateText("user", c.user, 128));
  PG_TRY_STATUS(ValidateText("auth user", c.auth_user, 128));
  PG_TRY_STATUS(ValidateText("registrar", c.registrar, 253));
  if (c.user.empty()) return Error::InvalidArgument("SIP user is required");
  if (c.registrar.empty()) return Error::InvalidArgument("registrar (SIP server host) is required");
  if (c.port < 1 || c.port > 65535) return Error::InvalidArgument("port must be 1-65535");
  PG_TRY(auto transport, core::ParseTransport(c.transport));
  if (c.password && c.generate_password) {
    return Error::InvalidArgument("give either a password or --generate-password, not both");
  }
  core::Line line;
  line.device_id = d.id;
  line.index = c.index;
  line.display_name = c.display_name;
  line.user = c.user;
  line.auth_user = c.auth_user;
  line.registrar = c.registrar;
  line.port = c.port;
  line.transport = transport;
  std::string generated;
  if (c.generate_password) {
    std::optional<core::Tenant> tenant;
    if (d.tenant_id) {
      PG_TRY(tenant, store_.GetTenant(*d.tenant_id));
    }
    PG_TRY(generated, GeneratePassword(tenant ? &*tenant : nullptr));
    line.password = generated;
  } else if (c.password) {
    PG_TRY_STATUS(ValidateText("password", *c.password, 128));
    line.password = *c.password;
  }
  if (d.tenant_id) {
    PG_TRY(auto tenant, store_.GetTenant(*d.tenant_id));
    PG_TRY(auto lines, store_.ListLines(d.id));
    std::erase_if(lines, [&](const core::Line& l) { return l.index == line.index; });
    lines.push_back(line);
    PG_TRY_STATUS(RefuseLintErrors(d, tenant, lines));
  }
  PG_TRY_STATUS(store_.SetLine(line));
  // The password itself never reaches the audit trail.
  PG_TRY_STATUS(Audit(
      "line set", d.mac.str(), d.tenant_id,
      {{"line", c.index}, {"user", c.user}, {"registrar", c.registrar}, {"password_set", line.password.has_value()}}));
  return generated;
}

}  // namespace provgate::service
