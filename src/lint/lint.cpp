#include "lint/lint.hpp"

#include <map>
#include <optional>

namespace provgate::lint {
namespace {

enum class Expect {
  kIn,        // value must be one of `values`
  kPositive,  // value must be a positive integer
};

// One setting check. `key` may contain '*', matching one run of digits (a line index), and
// alternatives separated by '|' (see Matches).
struct Check {
  std::string_view rule;
  Severity severity;
  std::string_view tpl;  // template whose file holds the key
  std::string_view key;
  Expect expect;
  std::vector<std::string_view> values;
  std::string_view message;
  std::string_view fix;
};

// Web UI protection: reachable when `switch_key` (in `switch_tpl`) is one of `on_values`, or
// always when switch_key is empty; protected when `admin_key` in `admin_tpl` is non-empty.
struct WebRule {
  std::string_view switch_tpl;
  std::string_view switch_key;
  std::vector<std::string_view> on_values;
  std::string_view admin_tpl;
  std::string_view admin_key;
};

struct VendorRules {
  std::vector<Check> checks;
  std::optional<WebRule> web;
  std::vector<std::string_view> password_keys;
};

constexpr std::string_view kRecheckFix = "set provisioning_interval_minutes (and the vendor's period variable) above 0";

const VendorRules* RulesFor(std::string_view vendor) {
  // A table of one rule per entry: clang-format would give every field a line of its own.
  // clang-format off
  static const std::map<std::string_view, VendorRules> kRules = {
      {"yealink",
       {{{"sip-from-any-source", Severity::kError, "common.cfg", "sip.trust_ctrl", Expect::kIn, {"1"},
          "the phone accepts SIP from any source", "set sip_trust_ctrl = true"},
         {"no-periodic-recheck", Severity::kError, "common.cfg", "static.auto_provision.repeat.enable", Expect::kIn,
          {"1"}, "periodic provisioning re-check is off", kRecheckFix},
         {"no-periodic-recheck", Severity::kError, "common.cfg", "static.auto_provision.repeat.minutes",
          Expect::kPositive, {}, "no provisioning re-check interval", kRecheckFix},
         {"auto-answer-on", Severity::kError, "common.cfg", "features.ip_call.auto_answer.enable", Expect::kIn, {"0"},
          "calls are answered automatically", "set auto_answer_enabled = false"},
         {"intercom-on", Severity::kWarning, "common.cfg", "features.intercom.allow", Expect::kIn, {"0"},
          "intercom calls are allowed", "set intercom_allowed = false"},
         {"discovery-on", Severity::kWarning, "common.cfg", "static.auto_provision.pnp_enable", Expect::kIn, {"0"},
          "SIP multicast PnP stays on after provisioning", "set pnp_enabled = false"},
         {"discovery-on", Severity::kWarning, "common.cfg", "static.auto_provision.dhcp_option.enable", Expect::kIn,
          {"0"}, "DHCP options may override the provisioning server", "set dhcp_option_enabled = false"},
         {"web-ui-plain-http", Severity::kWarning, "common.cfg", "static.wui.http_enable", Expect::kIn, {"0"},
          "the web UI is served over plain HTTP", "set web_ui_http_enabled = false"},
         {"remote-control-on", Severity::kWarning, "common.cfg", "features.action_uri.enable", Expect::kIn, {"0"},
          "action URI remote control is on", "set action_uri_enabled = false"},
         {"remote-control-on", Severity::kWarning, "common.cfg", "features.csta_control.enable", Expect::kIn, {"0"},
          "CSTA remote control is on", "set csta_control_enabled = false"}},
        WebRule{"common.cfg", "static.wui.https_enable", {"1"}, "mac.cfg", "static.security.user_password"},
        {"account.*.password"}}},
      {"polycom",
       {{{"sip-from-any-source", Severity::kError, "common.cfg", "voIpProt.SIP.requestValidation.1.method", Expect::kIn,
          {"source", "digest", "both"}, "incoming INVITEs are not validated", "set sip_request_validation = \"source\""},
         {"no-periodic-recheck", Severity::kError, "common.cfg", "prov.polling.enabled", Expect::kIn, {"1"},
          "provisioning polling is off", kRecheckFix},
         {"no-periodic-recheck", Severity::kError, "common.cfg", "prov.polling.period", Expect::kPositive, {},
          "no polling period", "set polling_period_seconds above 0"},
         {"auto-answer-on", Severity::kError, "common.cfg", "call.autoAnswer.SIP", Expect::kIn, {"0"},
          "calls are answered automatically", "set auto_answer_enabled = false"},
         {"remote-control-on", Severity::kWarning, "common.cfg", "prov.autoConfigUpload.enabled", Expect::kIn, {"0"},
          "the phone uploads its local changes", "set config_upload_enabled = false"}},
        WebRule{"common.cfg", "httpd.enabled", {"1"}, "mac-user.cfg", "device.auth.localAdminPassword"},
        {"reg.*.auth.password"}}},
      {"cisco",
       {{{"no-periodic-recheck", Severity::kError, "model.xml", "Provision_Enable", Expect::kIn, {"Yes"},
          "provisioning is disabled", kRecheckFix},
         {"no-periodic-recheck", Severity::kError, "model.xml", "Resync_Periodic", Expect::kPositive, {},
          "no periodic resync", "set resync_periodic_seconds above 0"},
         {"auto-answer-on", Severity::kError, "model.xml", "Auto_Answer_Page", Expect::kIn, {"No"},
          "pages are answered automatically", "set auto_answer_enabled = false"},
         {"remote-control-on", Severity::kWarning, "model.xml", "Resync_From_SIP", Expect::kIn, {"No"},
          "a SIP NOTIFY can trigger a resync", "set resync_from_sip_enabled = false"},
         // Cisco has no proxy-only filter; challenging INVITEs is the closest switch, and both
         // references leave it off (PBXs that do not answer the challenge), hence a warning.
         {"sip-from-any-source", Severity::kWarning, "mac.xml", "Auth_INVITE_*_", Expect::kIn, {"Yes"},
          "incoming INVITEs are not challenged (Cisco's only guard against SIP from any source; the shipped "
          "template leaves it off because many PBXs do not answer the challenge)",
          "set auth_invite = true if the PBX answers challenges"}},
        WebRule{"model.xml", "Enable_Web_Server", {"Yes"}, "mac.xml", "Admin_Passwd"},
        {"Password_*_"}}},
      {"grandstream",
       {{{"no-periodic-recheck", Severity::kError, "mac.xml", "provisioning.auto.mode|P194", Expect::kIn,
          // P194: 1 on GXP phones ("check every minute(s)"), 3 on HT ATAs ("check every ()
          // minutes"); both FusionPBX.
          {"YesUpgradeMin", "YesUpgradeHourOfDay", "YesUpgradeDayOfWeek", "1", "3"},
          "automatic provisioning checks are off",
          kRecheckFix},
         {"no-periodic-recheck", Severity::kError, "mac.xml", "provisioning.auto.minute|P193", Expect::kPositive, {},
          "no check interval", kRecheckFix},
         {"discovery-on", Severity::kWarning, "mac.xml", "provisioning.override.dhcp.allowCommonOptions|P145",
          Expect::kIn, {"No", "0"}, "DHCP options may override the provisioning server", "keep the shipped mac.xml"},
         {"web-ui-plain-http", Severity::kWarning, "mac.xml", "security.webAccessMode|P1650", Expect::kIn,
          {"HTTPS", "0"}, "the web UI is served over plain HTTP", "keep the shipped mac.xml"},
         {"sip-from-any-source", Severity::kError, "mac.xml",
          "account.*.sip.validate.incomingServer|P2347?|P243?|P743?|P2447?|P2547?", Expect::kIn, {"Yes", "1"},
          "the account accepts SIP from any source", "set sip_only_from_proxy = true"}},
        WebRule{"", "", {}, "mac.xml", "users.admin.password|P2"},
        {"account.*.sip.subscriber.password", "P34", "P734", "P406", "P506", "P412*"}}},
      {"snom",
       {{{"sip-from-any-source", Severity::kError, "model.xml", "filter_registrar", Expect::kIn, {"on"},
          "the phone accepts SIP from any source", "set sip_only_from_registrar = true"},
         {"no-periodic-recheck", Severity::kError, "model.xml", "settings_refresh_timer", Expect::kPositive, {},
          "no settings refresh interval", "set settings_refresh_seconds above 0"},
         {"auto-answer-on", Severity::kError, "model.xml", "intercom_enabled", Expect::kIn, {"off"},
          "intercom calls are answered automatically", "set intercom_enabled = false"},
         {"discovery-on", Severity::kWarning, "model.xml", "pnp_config", Expect::kIn, {"off"},
          "SIP PnP stays on after provisioning", "set pnp_enabled = false"},
         {"remote-control-on", Severity::kWarning, "model.xml", "allow_sip_settings", Expect::kIn, {"off"},
          "settings can be pushed over SIP", "set sip_settings_allowed = false"}},
        WebRule{"", "", {}, "mac.xml", "admin_mode_password"},
        {"user_pass[*]"}}},
      {"fanvil",
       {{{"no-periodic-recheck", Severity::kError, "common.cfg", "FlashInterval|Download_Interval", Expect::kPositive, {},
          "no provisioning re-check interval", "set flash_interval above 0"},
         {"discovery-on", Severity::kWarning, "common.cfg", "PNPEnable|PNP_Enable", Expect::kIn, {"0"},
          "SIP PnP stays on after provisioning", "set pnp_enabled = false"},
         {"remote-control-on", Severity::kWarning, "common.cfg", "CSTAEnable|CSTA_Enable", Expect::kIn, {"0"},
          "CSTA control is on", "keep the shipped common.cfg"},
         {"auto-answer-on", Severity::kError, "mac.cfg", "AutoAnswer[*]|Auto_Answer?", Expect::kIn, {"0"},
          "the line answers calls automatically", "set auto_answer_enabled = false"},
         {"sip-from-any-source", Severity::kWarning, "mac.cfg", "StrictProxy[*]", Expect::kIn, {"1"},
          "requests are not bound to the proxy", "set strict_proxy = true"}},
        WebRule{"", "", {}, "mac.cfg", "Password[1]|Password"},
        {"RegisterPswd[*]", "Register_Pswd"}}},
      {"gigaset",
       {{{"discovery-on", Severity::kWarning, "mac.xml", "SystemSettings.global.SipMulticastEnabled", Expect::kIn,
          {"0"}, "SIP multicast PnP stays on", "set pnp_enabled = false"}},
        WebRule{"", "", {}, "mac.xml", "WebUIAccounts.1.Password"},
        {"SipAccount.*.AuthPassword"}}},
      // Htek P-values are numbers, not per-line patterns: profile 1 (shared by every account)
      // holds the call settings; P34..P1806 are the passwords of accounts 1-6.
      {"htek",
       {{{"auto-answer-on", Severity::kError, "mac.xml", "P90", Expect::kIn, {"0"},
          "calls are answered automatically", "set auto_answer_enabled = false"},
         {"auto-answer-on", Severity::kError, "mac.xml", "P298", Expect::kIn, {"0"},
          "a caller's Call-Info header makes the phone answer by itself",
          "set call_info_auto_answer_enabled = false"},
         // Htek has no confirmed "SIP only from proxy" switch; checking the user ID of incoming
         // INVITEs is the closest confirmed one, hence a warning.
         {"sip-from-any-source", Severity::kWarning, "mac.xml", "P258", Expect::kIn, {"1"},
          "incoming INVITEs are not checked against the account's SIP user ID", "set check_sip_user_id = true"}},
        WebRule{"", "", {}, "mac.xml", "P2"},
        {"P34", "P734", "P506", "P606", "P1706", "P1806"}}},
  };
  // clang-format on
  auto it = kRules.find(vendor);
  return it == kRules.end() ? nullptr : &it->second;
}

// The lines a vendor's template can write for a model, where that is fewer than any line
// index: Grandstream P-value models, whose account numbering cannot be derived from the
// index (templates/grandstream/vars.toml model layer, docs/vendors/grandstream.md).
// shared_server: every port registers through profile 1, i.e. with line 1's server.
struct LineCapacity {
  std::string_view vendor;
  std::string_view model;
  int max_index;
  bool shared_server;
};

constexpr LineCapacity kLineCapacities[] = {
    {"grandstream", "HT801", 1, false},   {"grandstream", "HT802", 2, false},   {"grandstream", "HT812", 1, false},
    {"grandstream", "HT813", 1, false},   {"grandstream", "HT814", 4, true},    {"grandstream", "HT818", 8, true},
    {"grandstream", "GXP1160", 1, false}, {"grandstream", "GXP1405", 1, false}, {"grandstream", "GXP1610", 1, false},
    {"grandstream", "GXP1615", 1, false}, {"grandstream", "GXP1620", 2, false}, {"grandstream", "GXP1625", 2, false},
    {"grandstream", "GXP1628", 2, false}, {"grandstream", "GXP1630", 3, false}, {"grandstream", "GXP2000", 1, false},
    {"grandstream", "GXP2100", 1, false},
};

const LineCapacity* LineCapacityFor(std::string_view vendor, std::string_view model) {
  std::string upper;
  for (char c : model) upper.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  for (const auto& c : kLineCapacities) {
    if (c.vendor == vendor && c.model == upper) return &c;
  }
  return nullptr;
}

std::string ServerOf(const LintLine& l) { return l.registrar + ":" + std::to_string(l.port) + "/" + l.transport; }

Finding MakeLineFinding(std::string file, int index, std::string message, std::string fix) {
  return Finding{"line-unsupported", Severity::kError, std::move(file), "line " + std::to_string(index),
                 std::move(message), std::move(fix)};
}

// line-unsupported: lines the model's template never writes, and ports that would register
// with another line's server.
void CheckLines(std::string_view vendor, const std::vector<RenderedFile>& files, const LintContext& context,
                std::vector<Finding>& findings) {
  const LineCapacity* cap = LineCapacityFor(vendor, context.model);
  if (cap == nullptr) return;
  std::string file;
  for (const auto& f : files) {
    if (f.route.scope == vendors::FileScope::kDevice) {
      file = f.file_name;
      break;
    }
  }
  const LintLine* line1 = nullptr;
  for (const auto& l : context.lines) {
    if (l.index == 1) line1 = &l;
  }
  const std::string model(cap->model);
  const std::string range = "1-" + std::to_string(cap->max_index);
  for (const auto& l : context.lines) {
    const std::string n = std::to_string(l.index);
    if (l.index < 1 || l.index > cap->max_index) {
      findings.push_back(MakeLineFinding(file, l.index,
                                         "line " + n + " is never written for " + model +
                                             " (its template writes lines " + range +
                                             "): the port would stay unregistered",
                                         "move the line to index " + range + " or to a model that has the account"));
    } else if (cap->shared_server && l.index != 1 && (line1 == nullptr || ServerOf(l) != ServerOf(*line1))) {
      findings.push_back(MakeLineFinding(file, l.index,
                                         "line " + n + " registers with " + ServerOf(l) + ", but every " + model +
                                             " port uses profile 1, i.e. line 1's server (" +
                                             (line1 == nullptr ? "none" : ServerOf(*line1)) + ")",
                                         "give the line line 1's registrar, port and transport, or add line 1"));
    }
  }
}

bool MatchesOne(std::string_view pattern, std::string_view key) {
  if (pattern.ends_with('?')) pattern.remove_suffix(1);
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '*') {
      const std::size_t start = j;
      while (j < key.size() && key[j] >= '0' && key[j] <= '9') ++j;
      if (j == start) return false;
      ++i;
      continue;
    }
    if (j >= key.size() || key[j] != pattern[i]) return false;
    ++i;
    ++j;
  }
  return j == key.size();
}

// `pattern` may list alternatives separated by '|': the same setting under the names of the
// vendor's file formats (Fanvil <sysConf> and <VOIP_CONFIG_FILE>, Grandstream items and
// P-values).
bool Matches(std::string_view pattern, std::string_view key) {
  while (true) {
    const std::size_t bar = pattern.find('|');
    if (MatchesOne(pattern.substr(0, bar), key)) return true;
    if (bar == std::string_view::npos) return false;
    pattern.remove_prefix(bar + 1);
  }
}

// An exact key must be present in its file; a pattern with a line index ('*') or an alternative
// marked optional (trailing '?': a per-line key of a format without line indexes) applies only
// to the settings that exist.
bool IsExact(std::string_view pattern) { return pattern.find_first_of("*?") == std::string_view::npos; }

bool IsPositive(std::string_view v) {
  if (v.empty() || v.size() > 9) return false;
  bool nonzero = false;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    nonzero = nonzero || c != '0';
  }
  return nonzero;
}

struct Parsed {
  const RenderedFile* file;
  std::vector<Setting> settings;
};

Finding Make(std::string_view rule, Severity sev, const std::string& file, std::string_view key, std::string message,
             std::string_view fix) {
  return Finding{std::string(rule), sev, file, std::string(key), std::move(message), std::string(fix)};
}

}  // namespace

std::string_view SeverityName(Severity s) { return s == Severity::kError ? "error" : "warning"; }

Syntax SyntaxFor(const vendors::Vendor& vendor, const vendors::FileRoute& route) {
  if (route.format == render::Format::kKeyValue) return Syntax::kKeyValue;
  return vendor.name() == "polycom" ? Syntax::kXmlAttributes : Syntax::kXmlElements;
}

std::vector<Finding> LintDevice(const vendors::Vendor& vendor, const std::vector<RenderedFile>& files,
                                const LintContext& context) {
  std::vector<Finding> findings;
  std::vector<Parsed> parsed;
  for (const auto& f : files) {
    auto settings = ParseConfig(f.text, SyntaxFor(vendor, f.route));
    if (!settings) {
      findings.push_back(Make("parse-error", Severity::kError, f.file_name, "", settings.error().message,
                              "fix the template or the variable that broke the file's syntax"));
      continue;
    }
    parsed.push_back({&f, std::move(*settings)});
  }
  CheckLines(vendor.name(), files, context, findings);
  const VendorRules* rules = RulesFor(vendor.name());
  if (rules == nullptr) return findings;

  auto files_of = [&](std::string_view tpl) {
    std::vector<const Parsed*> out;
    for (const auto& p : parsed) {
      if (p.file->route.template_name == tpl) out.push_back(&p);
    }
    return out;
  };

  for (const Check& check : rules->checks) {
    const bool pattern = !IsExact(check.key);
    for (const Parsed* p : files_of(check.tpl)) {
      bool seen = false;
      for (const Setting& s : p->settings) {
        if (!Matches(check.key, s.key)) continue;
        seen = true;
        bool ok = false;
        if (check.expect == Expect::kPositive) {
          ok = IsPositive(s.value);
        } else {
          for (auto v : check.values) ok = ok || s.value == v;
        }
        if (!ok) {
          findings.push_back(Make(check.rule, check.severity, p->file->file_name, s.key,
                                  std::string(check.message) + " (" + s.key + " = " + s.value + ")", check.fix));
        }
      }
      // An exact key must be present; a per-line pattern only applies to lines that exist.
      if (!seen && !pattern) {
        findings.push_back(Make(check.rule, check.severity, p->file->file_name, check.key,
                                std::string(check.message) + " (" + std::string(check.key) + " is not set)",
                                check.fix));
      }
    }
  }

  if (rules->web) {
    const WebRule& web = *rules->web;
    const auto admin_files = files_of(web.admin_tpl);
    const auto switch_files = web.switch_key.empty() ? std::vector<const Parsed*>{} : files_of(web.switch_tpl);
    if (!admin_files.empty() && (web.switch_key.empty() || !switch_files.empty())) {
      bool reachable = web.switch_key.empty();
      for (const Parsed* p : switch_files) {
        for (const Setting& s : p->settings) {
          if (s.key != web.switch_key) continue;
          for (auto v : web.on_values) reachable = reachable || s.value == v;
        }
      }
      bool protected_ = false;
      for (const Parsed* p : admin_files) {
        for (const Setting& s : p->settings) {
          // Yealink spells "<user>:<password>"; an empty password after the colon is none.
          const std::string_view v = s.value;
          const std::size_t colon = vendor.name() == "yealink" ? v.find(':') : std::string_view::npos;
          const std::string_view secret = colon == std::string_view::npos ? v : v.substr(colon + 1);
          protected_ = protected_ || (Matches(web.admin_key, s.key) && !secret.empty());
        }
      }
      if (reachable && !protected_) {
        findings.push_back(Make("web-ui-unprotected", Severity::kError, admin_files.front()->file->file_name,
                                web.admin_key,
                                web.switch_key.empty() ? "the web UI cannot be switched off and has no admin password"
                                                       : "the web UI is on and has no admin password",
                                "set admin_password on the device (or keep web_ui_enabled = false)"));
      }
    }
  }

  if (context.encryption_configured) {
    for (const auto& p : parsed) {
      if (vendor.Encryption(p.file->route)) continue;  // served encrypted
      for (const Setting& s : p.settings) {
        for (auto pattern : rules->password_keys) {
          if (Matches(pattern, s.key) && !s.value.empty()) {
            findings.push_back(Make("plaintext-password-with-encryption", Severity::kError, p.file->file_name, s.key,
                                    "a SIP password is served in a plain file although the device has a config key",
                                    "keep passwords in the vendor's encrypted file (shipped templates do)"));
          }
        }
      }
    }
  }
  return findings;
}

std::vector<Finding> Lint(const vendors::Vendor& vendor, const vendors::FileRoute& route, std::string_view rendered,
                          const LintContext& context) {
  return LintDevice(vendor, {RenderedFile{route.template_name, route, std::string(rendered)}}, context);
}

}  // namespace provgate::lint
