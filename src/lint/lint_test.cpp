// Every rule fires on a deliberately weakened template or variable set, and the shipped
// templates rendered with the shipped variables (plus a per-device admin password, as
// provgate generates one) produce no finding at all.
#include "lint/lint.hpp"
#include "base/file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "render/template_set.hpp"

namespace provgate::lint {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kSourceDir = PROVGATE_SOURCE_DIR;

const render::TemplateSet& Templates() {
  static const render::TemplateSet set = render::TemplateSet::Load(kSourceDir / "templates").value();
  return set;
}

const vendors::Registry& Vendors() {
  static const vendors::Registry r = vendors::BuiltinVendors();
  return r;
}

struct Sample {
  const char* vendor;
  const char* model;
  std::vector<const char*> files;
};

// One device per vendor with its full file set.
const std::vector<Sample>& Samples() {
  static const std::vector<Sample> s = {
      {"yealink", "T54W", {"y000000000096.cfg", "001565aabbcc.boot", "001565aabbcc.cfg"}},
      {"polycom", "VVX_450", {"0004f2aabbcc.cfg", "0004f2aabbcc-user.cfg", "common.cfg"}},
      {"cisco", "SPA504G", {"spa504G.cfg", "0002fdff2103.xml", "0002fdff2103.cfg"}},
      {"grandstream", "GXP2135", {"cfgc074ad2bd859.xml", "cfggxp2135.xml", "cfg.xml"}},
      {"snom", "D785", {"snomD785.htm", "snomD785-000413922D24.htm"}},
      {"fanvil", "X7", {"F0V00X700000.cfg", "0c383e07e16c.cfg"}},
      {"fanvil", "X4", {"f0X4hw1.100.cfg", "0c383e07e16c.cfg"}},
      {"gigaset", "N870", {"7C2F80E0D605.xml"}},
      {"htek", "UC926", {"cfg0010.xml", "cfg001fc11c22a9.xml"}},
  };
  return s;
}

Json SampleContext(const std::string& mac) {
  Json line1 = {{"index", 1},
                {"display_name", "Alice"},
                {"user", "1001"},
                {"auth_user", "1001"},
                {"registrar", "sip.example.net"},
                {"port", 5060},
                {"transport", "udp"},
                {"is_udp", true},
                {"is_tcp", false},
                {"is_tls", false},
                {"password", "Alice-s3cret"}};
  Json line2 = {{"index", 2},
                {"display_name", "Support"},
                {"user", "1099"},
                {"auth_user", "1099"},
                {"registrar", "sip.example.net"},
                {"port", 5061},
                {"transport", "tls"},
                {"is_udp", false},
                {"is_tcp", false},
                {"is_tls", true},
                {"password", "Supp-s3cret"}};
  return {{"device", {{"mac", mac}}},
          {"tenant", {{"name", "acme"}, {"display_name", "ACME"}}},
          {"server", {{"provisioning_url", "https://prov.example.net/p/"}}},
          {"admin_password", "Gen3rated-Adm1n"},
          {"lines", Json::array({line1, line2})},
          {"line1", line1},  // RenderFile's per-index aliases (Htek templates read them)
          {"line2", line2}};
}

std::vector<RenderedFile> Render(const Sample& sample, const Json& overrides,
                                 const render::Template* replacement = nullptr, const char* replaced = "") {
  const vendors::Vendor* vendor = Vendors().Find(sample.vendor);
  std::vector<RenderedFile> out;
  for (const char* name : sample.files) {
    auto route = vendor->Route(name);
    EXPECT_TRUE(route) << name;
    if (!route) continue;
    Json ctx = Templates().BaseVars(sample.vendor, sample.model);
    render::MergeVars(ctx, SampleContext(route->mac ? route->mac->str() : ""));
    render::MergeVars(ctx, overrides);
    ctx["file"] = {{"name", name}, {"model_hint", route->model_hint}};
    if (route->scope == vendors::FileScope::kCommon) {
      ctx.erase("device");
      ctx.erase("lines");
      ctx.erase("line1");
      ctx.erase("line2");
    }
    const render::Template* tpl = route->template_name == replaced && replacement != nullptr
                                      ? replacement
                                      : Templates().Find(sample.vendor, route->template_name);
    out.push_back({name, *route, tpl->Render(ctx, route->format)});
  }
  return out;
}

const Sample& SampleOf(std::string_view vendor) {
  for (const auto& s : Samples()) {
    if (s.vendor == vendor) return s;
  }
  return Samples().front();
}

// The shipped templates' known warnings: Cisco leaves Auth_INVITE_N_ off like both public
// references (a PBX that does not answer the challenge could not call the phone).
std::vector<Finding> WithoutKnownWarnings(const std::string& vendor, std::vector<Finding> findings) {
  std::erase_if(findings, [&](const Finding& f) {
    return vendor == "cisco" && f.rule_id == "sip-from-any-source" && f.severity == Severity::kWarning;
  });
  return findings;
}

std::string Describe(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) out += f.rule_id + " " + f.file + " " + f.key + ": " + f.message + "\n";
  return out;
}

TEST(Lint, ShippedTemplatesAreClean) {
  for (const auto& sample : Samples()) {
    const auto findings = WithoutKnownWarnings(
        sample.vendor, LintDevice(*Vendors().Find(sample.vendor), Render(sample, Json::object()), {}));
    EXPECT_TRUE(findings.empty()) << sample.vendor << " " << sample.model << ":\n" << Describe(findings);
  }
}

TEST(Lint, ShippedTemplatesAreCleanWithEncryption) {
  for (const char* vendor : {"yealink", "cisco", "grandstream"}) {
    const auto findings = WithoutKnownWarnings(
        vendor, LintDevice(*Vendors().Find(vendor), Render(SampleOf(vendor), {{"config_key", "K3yK3yK3yK3yK3yK"}}),
                           LintContext{.encryption_configured = true}));
    EXPECT_TRUE(findings.empty()) << vendor << ":\n" << Describe(findings);
  }
}

struct Weakened {
  const char* vendor;
  Json overrides;
  const char* rule;
};

TEST(Lint, EveryRuleFindsItsWeakenedVariables) {
  const std::vector<Weakened> cases = {
      {"yealink", {{"sip_trust_ctrl", false}}, "sip-from-any-source"},
      {"yealink", {{"provisioning_interval_minutes", 0}}, "no-periodic-recheck"},
      {"yealink", {{"auto_answer_enabled", true}}, "auto-answer-on"},
      {"yealink", {{"intercom_allowed", true}}, "intercom-on"},
      {"yealink", {{"pnp_enabled", true}}, "discovery-on"},
      {"yealink", {{"dhcp_option_enabled", true}}, "discovery-on"},
      {"yealink", {{"web_ui_enabled", true}, {"admin_password", ""}}, "web-ui-unprotected"},
      {"yealink", {{"web_ui_http_enabled", true}}, "web-ui-plain-http"},
      {"yealink", {{"action_uri_enabled", true}}, "remote-control-on"},
      {"polycom", {{"sip_request_validation", "none"}}, "sip-from-any-source"},
      {"polycom", {{"polling_period_seconds", 0}}, "no-periodic-recheck"},
      {"polycom", {{"auto_answer_enabled", true}}, "auto-answer-on"},
      {"polycom", {{"web_ui_enabled", true}, {"admin_password", ""}}, "web-ui-unprotected"},
      {"polycom", {{"config_upload_enabled", true}}, "remote-control-on"},
      {"cisco", {{"resync_periodic_seconds", 0}}, "no-periodic-recheck"},
      {"cisco", {{"auto_answer_enabled", true}}, "auto-answer-on"},
      {"cisco", {{"resync_from_sip_enabled", true}}, "remote-control-on"},
      {"cisco", {{"auth_invite", false}}, "sip-from-any-source"},
      {"grandstream", {{"pvalue_format", true}, {"sip_only_from_proxy", false}}, "sip-from-any-source"},
      {"grandstream", {{"pvalue_format", true}, {"provisioning_interval_minutes", 0}}, "no-periodic-recheck"},
      {"grandstream", {{"pvalue_format", true}, {"admin_password", ""}}, "web-ui-unprotected"},
      {"cisco", {{"web_ui_enabled", true}, {"admin_password", ""}}, "web-ui-unprotected"},
      {"grandstream", {{"provisioning_interval_minutes", 0}}, "no-periodic-recheck"},
      {"grandstream", {{"sip_only_from_proxy", false}}, "sip-from-any-source"},
      {"grandstream", {{"admin_password", ""}}, "web-ui-unprotected"},
      {"snom", {{"sip_only_from_registrar", false}}, "sip-from-any-source"},
      {"snom", {{"settings_refresh_seconds", 0}}, "no-periodic-recheck"},
      {"snom", {{"intercom_enabled", true}}, "auto-answer-on"},
      {"snom", {{"pnp_enabled", true}}, "discovery-on"},
      {"snom", {{"sip_settings_allowed", true}}, "remote-control-on"},
      {"snom", {{"web_ui_enabled", true}, {"admin_password", ""}}, "web-ui-unprotected"},
      {"fanvil", {{"flash_interval", 0}}, "no-periodic-recheck"},
      {"fanvil", {{"pnp_enabled", true}}, "discovery-on"},
      {"fanvil", {{"auto_answer_enabled", true}}, "auto-answer-on"},
      {"fanvil", {{"strict_proxy", false}}, "sip-from-any-source"},
      {"fanvil", {{"admin_password", ""}}, "web-ui-unprotected"},
      {"gigaset", {{"pnp_enabled", true}}, "discovery-on"},
      {"gigaset", {{"admin_password", ""}}, "web-ui-unprotected"},
      {"htek", {{"auto_answer_enabled", true}}, "auto-answer-on"},
      {"htek", {{"call_info_auto_answer_enabled", true}}, "auto-answer-on"},
      {"htek", {{"check_sip_user_id", false}}, "sip-from-any-source"},
      {"htek", {{"admin_password", ""}}, "web-ui-unprotected"},
  };
  std::set<std::string> fired;
  for (const auto& c : cases) {
    const auto findings = LintDevice(*Vendors().Find(c.vendor), Render(SampleOf(c.vendor), c.overrides), {});
    bool found = false;
    for (const auto& f : findings) {
      found = found || f.rule_id == c.rule;
      EXPECT_FALSE(f.message.empty());
      EXPECT_FALSE(f.fix_hint.empty());
    }
    EXPECT_TRUE(found) << c.vendor << " " << c.overrides.dump() << " expected " << c.rule << ", got:\n"
                       << Describe(findings);
    if (found) fired.insert(c.rule);
  }
  EXPECT_EQ(fired.size(), 8u);
}

// A Grandstream P-value model whose template cannot write a line: an error naming the line,
// instead of a port that silently never registers.
TEST(Lint, LinesAPValueModelCannotWriteAreErrors) {
  const vendors::Vendor& gs = *Vendors().Find("grandstream");
  const Sample ht812{"grandstream", "HT812", {"cfgc074ad273a10.xml"}};
  const LintLine l1{1, "sip.example.net", 5060, "udp"};
  const LintLine l2{2, "sip.example.net", 5060, "udp"};
  auto rule_keys = [](const std::vector<Finding>& findings) {
    std::vector<std::string> keys;
    for (const auto& f : findings) {
      if (f.rule_id == "line-unsupported") {
        EXPECT_EQ(f.severity, Severity::kError);
        EXPECT_EQ(f.file, "cfgc074ad273a10.xml");
        keys.push_back(f.key);
      }
    }
    return keys;
  };
  using Keys = std::vector<std::string>;
  // No sourced numbering for a second HT812 port.
  EXPECT_EQ(rule_keys(LintDevice(gs, Render(ht812, Json::object()), LintContext{false, "HT812", {l1, l2}})),
            Keys{"line 2"});
  // HT802 port 2 is written (FusionPBX ht802); a third line is not.
  const Sample ht802{"grandstream", "HT802", {"cfgc074ad273a10.xml"}};
  EXPECT_EQ(rule_keys(LintDevice(gs, Render(ht802, Json::object()), LintContext{false, "HT802", {l1, l2}})), Keys{});
  const LintLine l3{3, "sip.example.net", 5060, "udp"};
  EXPECT_EQ(rule_keys(LintDevice(gs, Render(ht802, Json::object()), LintContext{false, "ht802", {l1, l2, l3}})),
            Keys{"line 3"});
  // HT814 ports all register through profile 1: another server is a dead port.
  const Sample ht814{"grandstream", "HT814", {"cfgc074ad273a10.xml"}};
  const LintLine other{3, "sip.other.net", 5060, "udp"};
  EXPECT_EQ(rule_keys(LintDevice(gs, Render(ht814, Json::object()), LintContext{false, "HT814", {l1, l2, other}})),
            Keys{"line 3"});
  EXPECT_EQ(rule_keys(LintDevice(gs, Render(ht814, Json::object()), LintContext{false, "HT814", {l2}})),
            Keys{"line 2"});
  // Version 2 models write every line.
  EXPECT_EQ(rule_keys(LintDevice(gs, Render(SampleOf("grandstream"), Json::object()),
                                 LintContext{false, "GXP2135", {l1, l2, l3}})),
            Keys{});
}

std::string ReadAll(const fs::path& p) {
  auto bytes = ReadWholeFile(p);
  return bytes ? *bytes : std::string();
}

TEST(Lint, PlaintextPasswordInAWeakenedTemplate) {
  // The shipped Cisco device file leaves passwords to the encrypted $MA.cfg once a key
  // exists; a copy without that guard leaks them in the plain file.
  std::string source = ReadAll(kSourceDir / "templates/cisco/mac.xml.mustache");
  const auto open = source.find("{{^config_key}}\n");
  ASSERT_NE(open, std::string::npos);
  source.erase(open, std::string("{{^config_key}}\n").size());
  const auto close = source.find("{{/config_key}}\n  <Proxy");
  ASSERT_NE(close, std::string::npos);
  source.erase(close, std::string("{{/config_key}}\n").size());
  auto weak = render::Template::Parse(source, "mac.xml");
  ASSERT_TRUE(weak) << weak.error().message;
  const auto files = Render(SampleOf("cisco"), {{"config_key", "K3yK3yK3yK3yK3yK"}}, &*weak, "mac.xml");
  const auto findings = WithoutKnownWarnings(
      "cisco", LintDevice(*Vendors().Find("cisco"), files, LintContext{.encryption_configured = true}));
  ASSERT_FALSE(findings.empty());
  for (const auto& f : findings) EXPECT_EQ(f.rule_id, "plaintext-password-with-encryption") << Describe(findings);
  // Without a key the same file is fine: nothing is promised encrypted.
  EXPECT_TRUE(WithoutKnownWarnings("cisco", LintDevice(*Vendors().Find("cisco"), files, {})).empty());
  // Polycom cannot encrypt, so a configured key means every password file is flagged.
  const auto poly = LintDevice(*Vendors().Find("polycom"), Render(SampleOf("polycom"), Json::object()),
                               LintContext{.encryption_configured = true});
  ASSERT_EQ(poly.size(), 2u) << Describe(poly);
  EXPECT_EQ(poly[0].rule_id, "plaintext-password-with-encryption");
}

TEST(Lint, BrokenSyntaxIsAParseError) {
  const vendors::Vendor& poly = *Vendors().Find("polycom");
  auto route = poly.Route("common.cfg");
  const auto findings = Lint(poly, *route, "<polycomConfig><call call.autoAnswer.SIP=\"0\"></polycomConfig>", {});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].rule_id, "parse-error");
  EXPECT_EQ(findings[0].severity, Severity::kError);
  EXPECT_EQ(SeverityName(findings[0].severity), "error");
}

TEST(Lint, SingleFileRunsOnlyItsOwnRules) {
  // A Yealink MAC file alone cannot show the web UI switch or the common hardening.
  const vendors::Vendor& ylk = *Vendors().Find("yealink");
  const auto files = Render(SampleOf("yealink"), {{"admin_password", ""}});
  EXPECT_TRUE(Lint(ylk, files[2].route, files[2].text, {}).empty());
  // The common file alone runs the common rules.
  const auto weak = Render(SampleOf("yealink"), {{"sip_trust_ctrl", false}});
  const auto findings = Lint(ylk, weak[0].route, weak[0].text, {});
  ASSERT_EQ(findings.size(), 1u) << Describe(findings);
  EXPECT_EQ(findings[0].key, "sip.trust_ctrl");
}

}  // namespace
}  // namespace provgate::lint
