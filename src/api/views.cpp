#include "api/views.hpp"

#include "base/clock.hpp"

namespace provgate::api {
namespace {

nlohmann::json TenantOrNull(const std::string& tenant) {
  return tenant.empty() ? nlohmann::json(nullptr) : nlohmann::json(tenant);
}

}  // namespace

nlohmann::json TimeJson(const std::optional<std::int64_t>& t) {
  if (!t) return nullptr;
  return FormatRfc3339(FromUnix(*t));
}

nlohmann::json TenantJson(const core::Tenant& t) {
  return {{"name", t.name},
          {"display_name", t.display_name},
          {"policy",
           {{"window_days", t.window_days},
            {"password_policy", std::string(core::PasswordPolicyName(t.password_policy))},
            {"confirm_grace_seconds", t.confirm_grace_seconds},
            {"password_length", t.password_length},
            {"password_alphabet", t.password_alphabet},
            {"retention_days", t.retention_days},
            {"min_strength", std::string(core::IdentityStrengthName(t.min_strength))},
            {"ip_ranges", t.ip_ranges.ToStrings()},
            {"ip_as_identity", t.ip_as_identity},
            {"allow_plain_http", t.allow_plain_http},
            {"anomaly_lock", t.anomaly_lock},
            {"lock_on_misuse", t.lock_on_misuse}}}};
}

namespace {

nlohmann::json DeviceCommon(const core::Device& d, const std::string& tenant) {
  return {{"mac", d.mac.str()},
          {"vendor", d.vendor},
          {"model", d.model},
          {"serial", d.serial},
          {"tenant", TenantOrNull(tenant)},
          {"state", std::string(core::DeviceStateName(d.state))},
          {"window_opens", TimeJson(d.window_opens)},
          {"window_expires", TimeJson(d.window_expires)},
          {"locked", !d.locked_reason.empty()},
          {"locked_reason", d.locked_reason},
          {"pin_sha256", d.pin_spki.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.pin_spki)},
          {"last_seen",
           {{"at", TimeJson(d.last_seen_at)},
            {"ip", d.last_seen_ip},
            {"user_agent", d.last_user_agent},
            {"firmware", d.firmware}}},
          {"created_at", TimeJson(d.created_at)},
          {"updated_at", TimeJson(d.updated_at)}};
}

}  // namespace

nlohmann::json DeviceJson(const store::DeviceSummary& d, const std::string& tenant) {
  auto j = DeviceCommon(d.device, tenant);
  j["credentials"] = {
      {"url_token", d.has_url_token}, {"digest_password", d.has_digest_password}, {"config_key", d.has_config_key}};
  return j;
}

nlohmann::json DeviceJson(const core::Device& d, const std::string& tenant) {
  auto j = DeviceCommon(d, tenant);
  j["credentials"] = {{"url_token", !d.token_hash.empty()},
                      {"digest_password", d.digest_password.has_value()},
                      {"config_key", d.config_key.has_value()}};
  return j;
}

nlohmann::json LineJson(const core::Line& l, bool has_password) {
  return {{"index", l.index},
          {"display_name", l.display_name},
          {"user", l.user},
          {"auth_user", l.auth_user},
          {"registrar", l.registrar},
          {"port", l.port},
          {"transport", std::string(core::TransportName(l.transport))},
          {"has_password", has_password},
          {"delivered_at", TimeJson(l.delivered_at)}};
}

nlohmann::json BanJson(const defense::Ban& b) {
  return {{"source", b.source},
          {"reason", b.reason},
          {"created_at", TimeJson(b.created)},
          {"expires_at", TimeJson(b.expires)},
          {"offences", b.offence_count}};
}

}  // namespace provgate::api
