// Rendered configs held against public references: the defects a key-by-key comparison with
// FusionPBX, wazo-provd-plugins and the vendors' guides found (docs/vendors/<vendor>.md), and
// the key tables docs/vendors/keys/<vendor>.tsv that every golden file must stay within.
#include <gtest/gtest.h>
#include <algorithm>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/file.hpp"
#include "lint/config_parse.hpp"
#include "lint/lint.hpp"
#include "render/template_set.hpp"
#include "vendors/vendor.hpp"

namespace provgate::vendors {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kSourceDir = PROVGATE_SOURCE_DIR;

const render::TemplateSet& Templates() {
  static const render::TemplateSet set = *render::TemplateSet::Load(kSourceDir / "templates");
  return set;
}

const Registry& Vendors() {
  static const Registry r = BuiltinVendors();
  return r;
}

Json Line(int index, const std::string& user, const std::string& auth_user, int port, const std::string& transport) {
  return {{"index", index},
          {"display_name", "L" + std::to_string(index)},
          {"user", user},
          {"auth_user", auth_user},
          {"registrar", "sip.example.net"},
          {"port", port},
          {"transport", transport},
          {"is_udp", transport == "udp"},
          {"is_tcp", transport == "tcp"},
          {"is_tls", transport == "tls"},
          {"password", "pw" + std::to_string(index)}};
}

// Renders `file` of `vendor` for a device of `model` with `lines`, like pipeline::RenderFile.
// `server` as RenderFile builds it for https://prov.example.net/p/ unless given.
std::string Render(const std::string& vendor, const std::string& model, const std::string& file,
                   const Json& lines = Json::array(), const Json& device_vars = Json::object(),
                   const Json& server = {{"provisioning_url", "https://prov.example.net/p/"},
                                         {"provisioning_host_path", "prov.example.net/p"},
                                         {"provisioning_https", true}}) {
  auto route = Vendors().Find(vendor)->Route(file);
  EXPECT_TRUE(route) << vendor << " " << file;
  if (!route) return {};
  Json ctx = Templates().BaseVars(vendor, model);
  ctx["server"] = server;
  ctx["file"] = {{"name", file}, {"model_hint", route->model_hint}};
  if (route->scope == FileScope::kDevice) {
    render::MergeVars(ctx, device_vars);
    ctx["device"] = {{"mac", route->mac->str()}, {"mac_upper", route->mac->Upper()}, {"model", model}};
    // Distinct (registrar, port, transport) as "servers", each line's "server_index".
    Json servers = Json::array();
    Json indexed = lines;
    for (auto& l : indexed) {
      std::size_t i = 0;
      while (i < servers.size() && !(servers[i]["registrar"] == l["registrar"] && servers[i]["port"] == l["port"] &&
                                     servers[i]["transport"] == l["transport"])) {
        ++i;
      }
      if (i == servers.size()) {
        servers.push_back({{"index", i},
                           {"registrar", l["registrar"]},
                           {"port", l["port"]},
                           {"transport", l["transport"]},
                           {"is_udp", l["is_udp"]},
                           {"is_tcp", l["is_tcp"]},
                           {"is_tls", l["is_tls"]}});
      }
      l["server_index"] = i;
    }
    ctx["lines"] = indexed;
    ctx["servers"] = servers;
    for (const auto& l : indexed) ctx["line" + std::to_string(l["index"].get<int>())] = l;
  }
  const render::Template* tpl = Templates().Find(vendor, route->template_name);
  EXPECT_NE(tpl, nullptr) << vendor << " " << route->template_name;
  return tpl == nullptr ? std::string() : tpl->Render(ctx, route->format);
}

bool Has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// SPA default Use_Auth_ID_N_ = No: without Yes the phone registers with User_ID, not Auth_ID.
TEST(ReferenceKeys, CiscoLinesUseTheirSeparateAuthName) {
  const std::string out =
      Render("cisco", "SPA504G", "0002fdff2103.xml", Json::array({Line(1, "1001", "auth1001", 5060, "udp")}));
  EXPECT_TRUE(Has(out, "<Auth_ID_1_>auth1001</Auth_ID_1_>")) << out;
  EXPECT_TRUE(Has(out, "<Use_Auth_ID_1_>Yes</Use_Auth_ID_1_>")) << out;
  EXPECT_FALSE(Has(out, "Secure_Call_Setting_1_")) << "not a per-line key";
  EXPECT_TRUE(Has(out, "<Auth_INVITE_1_>No</Auth_INVITE_1_>")) << "both references answer unchallenged";
}

TEST(ReferenceKeys, CiscoAdminPasswordUnderBothFamiliesNames) {
  const std::string out =
      Render("cisco", "CP-8841-3PCC", "00562b043615.xml", Json::array(), {{"admin_password", "adm"}});
  EXPECT_TRUE(Has(out, "<Admin_Password>adm</Admin_Password>")) << out;  // MPP
  EXPECT_TRUE(Has(out, "<Admin_Passwd>adm</Admin_Passwd>")) << out;      // SPA
}

// The keys a vendor names as setting the web admin password (the portal's engineer
// password relies on them) are the ones its device files write the password under, and each
// model family's own key (docs/vendors/<vendor>.md, "Web admin password") is among them.
TEST(ReferenceKeys, WebAdminPasswordKeysCarryTheAdminPassword) {
  struct Case {
    std::string vendor, model, key;
  };
  const std::vector<Case> devices = {{"yealink", "T54W", "static.security.user_password"},
                                     {"polycom", "VVX_400", "device.auth.localAdminPassword"},
                                     {"cisco", "SPA504G", "Admin_Passwd"},
                                     {"cisco", "CP-8841-3PCC", "Admin_Password"},
                                     {"cisco", "SPA112", "Web_Login_Admin_Password"},
                                     {"grandstream", "HT802", "P2"},
                                     {"grandstream", "GRP2614", "users.admin.password"},
                                     {"htek", "UC926", "P2"},
                                     {"snom", "D785", "webserver_admin_password"},
                                     {"snom", "D785", "http_pass"},
                                     {"fanvil", "X4", "Password"},
                                     {"fanvil", "X7", "Password"},
                                     {"gigaset", "N870", "WebUIAccounts.1.Password"}};
  std::set<std::string> covered;
  for (const auto& [vendor, model, key] : devices) {
    const Vendor* v = Vendors().Find(vendor);
    ASSERT_NE(v, nullptr) << vendor;
    const auto keys = v->WebAdminPasswordKeys();
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << vendor << " does not list " << key;
    const auto mac = *core::MacAddress::Parse("0c383e07e16c");
    bool carried = false;
    for (const auto& file : v->BootFiles(mac, model)) {
      const auto route = v->Route(file);
      if (!route || route->scope != FileScope::kDevice) continue;
      std::istringstream out(Render(vendor, model, file, Json::array(), {{"admin_password", "Eng1neer-Pw"}}));
      for (std::string line; std::getline(out, line);)
        carried = carried || (Has(line, "Eng1neer-Pw") && Has(line, key));
    }
    EXPECT_TRUE(carried) << vendor << " " << model << ": no device file line sets " << key << " to the password";
    covered.insert(vendor);
  }
  for (const auto& name : Vendors().Names()) EXPECT_TRUE(covered.contains(name)) << name << " is not checked";
}

// wazo: the SPA5xxG firmware asks for spa508G.cfg ("G is uppercase").
TEST(ReferenceKeys, CiscoRoutesThePsnAsTheFirmwareSpellsIt) {
  const Vendor* cisco = Vendors().Find("cisco");
  for (const char* name : {"spa508G.cfg", "spa504G.cfg", "spa504g.cfg", "spa525G2.cfg", "spa112.cfg"}) {
    auto route = cisco->Route(name);
    ASSERT_TRUE(route) << name;
    EXPECT_EQ(route->template_name, "model.xml");
  }
  EXPECT_EQ(cisco->BootFiles(*core::MacAddress::Parse("0002fdff2103"), "SPA508G").front(), "spa508G.cfg");
}

// Both references: X2/X3/X3S/X4/X5 (and, in wazo, X5S/X6) read <VOIP_CONFIG_FILE>; newer
// models <sysConf>. Every file carries a version.
TEST(ReferenceKeys, FanvilFormatFollowsTheModelFamily) {
  const Json lines = Json::array({Line(1, "1001", "1001", 5060, "udp")});
  for (const char* model : {"X2", "X3S", "X4", "X5", "X6"}) {
    for (const char* file : {"0c383e07e16c.cfg", "f0X4hw1.100.cfg"}) {
      const std::string out = Render("fanvil", model, file, lines);
      EXPECT_TRUE(Has(out, "<VOIP_CONFIG_FILE>")) << model << " " << file;
      EXPECT_TRUE(Has(out, "<version>")) << model << " " << file;
      EXPECT_FALSE(Has(out, "<sysConf>")) << model << " " << file;
    }
  }
  for (const char* model : {"X7", "X7C", "X4U", "V67"}) {
    const std::string out = Render("fanvil", model, "0c383e07e16c.cfg", lines);
    EXPECT_TRUE(Has(out, "<sysConf>")) << model;
    EXPECT_TRUE(Has(out, "<Version>")) << model;
  }
}

// Fanvil C56/i23 manuals: a file is applied only when its version is higher than the running
// one. The pipeline's file.content_version (10 digits, >= 2000000000) makes 2.<content_version>
// higher than the fallback config_version both as a decimal and as a string; the fallback
// itself is a valid version.
TEST(ReferenceKeys, FanvilContentVersionIsHigherThanTheFallback) {
  static const std::regex kVersion(R"(<[Vv]ersion>([0-9]+\.[0-9]+)</[Vv]ersion>)");
  for (const char* model : {"X7", "X4"}) {
    for (const char* tpl : {"common.cfg", "mac.cfg"}) {
      Json ctx = Templates().BaseVars("fanvil", model);
      ctx["lines"] = Json::array();
      const std::string fallback_out = Templates().Find("fanvil", tpl)->Render(ctx, render::Format::kXml);
      ctx["file"] = {{"content_version", "2000000042"}};
      const std::string versioned_out = Templates().Find("fanvil", tpl)->Render(ctx, render::Format::kXml);
      std::smatch fallback;
      std::smatch versioned;
      ASSERT_TRUE(std::regex_search(fallback_out, fallback, kVersion)) << model << " " << tpl << fallback_out;
      ASSERT_TRUE(std::regex_search(versioned_out, versioned, kVersion)) << model << " " << tpl;
      EXPECT_EQ(versioned[1].str(), "2.2000000042") << model << " " << tpl;
      EXPECT_EQ(fallback[1].str(), "2.0002") << model << " " << tpl;
      EXPECT_GT(std::stod(versioned[1].str()), std::stod(fallback[1].str())) << model << " " << tpl;
      EXPECT_GT(versioned[1].str(), fallback[1].str()) << model << " " << tpl;
    }
  }
}

// FusionPBX pairs https:// with 5 (x7, h2u-v2 FlashProtocol; x4, x3sp Download_Protocol);
// wazo pairs http:// with 4 (base-new.tpl) and 2 (legacy base.tpl).
TEST(ReferenceKeys, FanvilProvisioningProtocolFollowsTheUrlScheme) {
  EXPECT_TRUE(Has(Render("fanvil", "X7", "F0V00X700000.cfg"), "<FlashProtocol>5</FlashProtocol>"));
  EXPECT_TRUE(Has(Render("fanvil", "X4", "f0X4hw1.100.cfg"), "<Download_Protocol>5</Download_Protocol>"));
  const Json http = {{"provisioning_url", "http://prov.example.net/p/"},
                     {"provisioning_host_path", "prov.example.net/p"},
                     {"provisioning_https", false}};
  EXPECT_TRUE(Has(Render("fanvil", "X7", "F0V00X700000.cfg", Json::array(), Json::object(), http),
                  "<FlashProtocol>4</FlashProtocol>"));
  EXPECT_TRUE(Has(Render("fanvil", "X4", "f0X4hw1.100.cfg", Json::array(), Json::object(), http),
                  "<Download_Protocol>2</Download_Protocol>"));
}

TEST(ReferenceKeys, FanvilSysConfNestsDateUnderPhoneAndPnpUnderAp) {
  const std::string out = Render("fanvil", "X7", "F0V00X700000.cfg");
  const auto phone = out.find("<phone>");
  const auto date = out.find("<date>");
  const auto phone_end = out.find("</phone>");
  const auto ap = out.find("<ap>");
  const auto pnp = out.find("<pnp>");
  const auto ap_end = out.find("</ap>");
  ASSERT_NE(phone, std::string::npos) << out;
  ASSERT_NE(ap, std::string::npos) << out;
  EXPECT_TRUE(phone < date && date < phone_end) << out;
  EXPECT_TRUE(ap < pnp && pnp < ap_end) << out;
  EXPECT_TRUE(Has(out, "<FlashProtocol>")) << out;
}

// wazo Nx70 (Nx70_83_v2_65_0 base.tpl, common.py _add_voip_providers): 5-digit handset index
// created with add_hs, a registration code per handset, and one SipProvider per distinct
// server (here registrar, port and transport) from 0, shared by the lines that use it.
TEST(ReferenceKeys, GigasetWritesHandsetAccountsAndSharedProviders) {
  Json lines = Json::array({Line(1, "1001", "a1001", 5061, "tls"), Line(2, "1002", "1002", 5060, "udp"),
                            Line(3, "1003", "1003", 5061, "tls")});
  const std::string out = Render("gigaset", "N870", "7C2F80E0D605.xml", lines);
  EXPECT_TRUE(Has(out, "<oper name=\"add_hs\" value=\"00001\">")) << out;
  EXPECT_TRUE(Has(out, "name=\"hs.00001.DECT_AC\" value=\"0000\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"hs.00003.DECT_AC\" value=\"0000\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipAccount.00001.AuthName\" value=\"a1001\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipAccount.00001.ProviderId\" value=\"0\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipProvider.0.RegServerPort\" value=\"5061\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipProvider.0.TransportProtocol\" value=\"3\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipAccount.00002.ProviderId\" value=\"1\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipProvider.1.TransportProtocol\" value=\"1\"")) << out;
  // Line 3 uses line 1's server: the same provider, no third one.
  EXPECT_TRUE(Has(out, "name=\"SipAccount.00003.ProviderId\" value=\"0\"")) << out;
  EXPECT_FALSE(Has(out, "SipProvider.2.")) << out;
  EXPECT_FALSE(Has(out, "SipAccount.1.")) << out;
  EXPECT_TRUE(Has(out, "name=\"DmGlobal.0.TimeZone\" value=\"Greenwich\"")) << out;
  // The code is a variable (device layer).
  EXPECT_TRUE(Has(Render("gigaset", "N870", "7C2F80E0D605.xml", lines, {{"dect_access_code", "4711"}}),
                  "name=\"hs.00002.DECT_AC\" value=\"4711\""));
}

// Yealink admin guide: without aes_key_in_file = 1 the phone never asks for <mac>_Security.enc.
TEST(ReferenceKeys, YealinkCommonFileLetsThePhoneFetchItsKeyFile) {
  for (const char* file : {"y000000000096.cfg", "y000000000028.cfg", "y000000000000.cfg"}) {
    EXPECT_TRUE(Has(Render("yealink", "T54W", file), "static.auto_provision.aes_key_in_file = 1\n")) << file;
  }
}

// Every model of the model-code table gets its common file (provisioning URL, re-check,
// hardening) through <mac>.boot, and BootFiles lists exactly what the boot file includes.
TEST(ReferenceKeys, YealinkBootFileIncludesTheCommonFileOfEveryModel) {
  const Vendor* yealink = Vendors().Find("yealink");
  const core::MacAddress mac = *core::MacAddress::Parse("001565aabbcc");
  for (const char* model : {"T46G", "T42G", "T48G", "T41P", "T40P", "T48S", "T46S", "T42S", "T41S",    "T40G",
                            "T43U", "T46U", "T48U", "T42U", "T53",  "T53W", "T54W", "T57W", "T58W",    "CP960",
                            "T31G", "T33G", "W52P", "W56P", "W60B", "W70B", "W80",  "T99X", "SIP-T46U"}) {
    const std::string boot = Render("yealink", model, "001565aabbcc.boot");
    std::vector<std::string> included{"001565aabbcc.boot"};
    std::istringstream in(boot);
    for (std::string l; std::getline(in, l);) {
      if (l.starts_with("include:config \"")) included.push_back(l.substr(16, l.size() - 17));
    }
    EXPECT_EQ(included, yealink->BootFiles(mac, model)) << model;
    EXPECT_EQ(included.size(), 3u) << model;
  }
}

// Both references provision HT8xx with config version 1 P-values only.
TEST(ReferenceKeys, GrandstreamAtasGetPValues) {
  const Json lines = Json::array({Line(1, "1001", "a1001", 5061, "tls")});
  for (const char* model : {"HT801", "HT802", "HT814"}) {
    const std::string out = Render("grandstream", model, "cfgc074ad273a10.xml", lines, {{"admin_password", "adm"}});
    EXPECT_TRUE(Has(out, "<config version=\"1\">")) << model;
    EXPECT_FALSE(Has(out, "<item ")) << model;
    // HT814/HT818 read accounts from their port table (FusionPBX ht814).
    EXPECT_TRUE(Has(out, std::string(model) == "HT814" ? "<P4090>a1001</P4090>" : "<P36>a1001</P36>")) << out;
    EXPECT_TRUE(Has(out, "<P130>2</P130>")) << out;
    EXPECT_TRUE(Has(out, "<P243>1</P243>")) << out;
    EXPECT_TRUE(Has(out, "<P2>adm</P2>")) << out;
  }
  const std::string v2 = Render("grandstream", "GRP2614", "cfgc074ad2bd859.xml", lines);
  EXPECT_TRUE(Has(v2, "<config version=\"2\">")) << v2;
}

// cfg<model>.xml and cfg.xml are fallbacks: what a provisioned phone needs is in cfg<mac>.xml.
TEST(ReferenceKeys, GrandstreamDeviceFileCarriesProvisioningAndHardening) {
  const std::string v2 = Render("grandstream", "GXP2135", "cfgc074ad2bd859.xml");
  for (const char* key :
       {"provisioning.auto.mode", "provisioning.auto.minute", "provisioning.config.serverPath",
        "provisioning.override.dhcp.allowCommonOptions", "security.webAccessMode", "dateTime.timezone\">TZN+0<"}) {
    EXPECT_TRUE(Has(v2, key)) << key;
  }
  const std::string v1 = Render("grandstream", "HT802", "cfgc074ad2bd859.xml");
  for (const char* key : {"<P194>3</P194>", "<P193>1440</P193>", "<P145>0</P145>", "<P64>TZN+0</P64>", "<P237>"}) {
    EXPECT_TRUE(Has(v1, key)) << key;
  }
}

// FusionPBX ht802/dp715: P194 "3 - Check every () minutes" on HT ATAs; gxp16xx: "1 - Yes,
// check for upgrade based on minute(s)". P1414 (3CX auto provision, "Default is Yes") = 0
// where the family's template has it (ht8xx, gxp16xx, gxp2100).
TEST(ReferenceKeys, GrandstreamPeriodicCheckAndPnpPerFamily) {
  for (const char* model : {"HT801", "HT802", "HT812", "HT813", "HT814", "HT818"}) {
    const std::string out = Render("grandstream", model, "cfgc074ad273a10.xml");
    EXPECT_TRUE(Has(out, "<P194>3</P194>")) << model;
    EXPECT_TRUE(Has(out, "<P1414>0</P1414>")) << model;
  }
  for (const char* model : {"GXP1610", "GXP1625", "GXP1628", "GXP1630", "GXP2100"}) {
    const std::string out = Render("grandstream", model, "cfgc074ad273a10.xml");
    EXPECT_TRUE(Has(out, "<P194>1</P194>")) << model;
    EXPECT_TRUE(Has(out, "<P1414>0</P1414>")) << model;
  }
  for (const char* model : {"GXP1160", "GXP1405", "GXP2000"}) {
    const std::string out = Render("grandstream", model, "cfgc074ad273a10.xml");
    EXPECT_TRUE(Has(out, "<P194>1</P194>")) << model;
    EXPECT_FALSE(Has(out, "P1414")) << model;
  }
}

// Every FusionPBX Grandstream template writes the config server as host/path and selects
// HTTPS separately (P212 = 2, provisioning.config.protocol = HTTPS).
TEST(ReferenceKeys, GrandstreamServerPathIsHostAndPath) {
  const std::string v1 = Render("grandstream", "HT802", "cfgc074ad273a10.xml");
  EXPECT_TRUE(Has(v1, "<P237>prov.example.net/p</P237>")) << v1;
  EXPECT_TRUE(Has(v1, "<P212>2</P212>")) << v1;
  const std::string v2 = Render("grandstream", "GXP2135", "cfgc074ad2bd859.xml");
  EXPECT_TRUE(Has(v2, "<item name=\"provisioning.config.serverPath\">prov.example.net/p</item>")) << v2;
  EXPECT_TRUE(Has(v2, "<item name=\"provisioning.config.protocol\">HTTPS</item>")) << v2;
  const std::string fallback = Render("grandstream", "GXP2135", "cfg.xml");
  EXPECT_TRUE(Has(fallback, "serverPath\">prov.example.net/p</item>")) << fallback;
  for (const std::string& out : {v1, v2, fallback}) EXPECT_FALSE(Has(out, "https://")) << out;
}

// Further accounts of P-value models, numbered as FusionPBX numbers them (ht802 FXS port 2,
// gxp16xx accounts 2-3, ht814/ht818 port table); a line above what the model's template
// writes is left out, and lint's line-unsupported reports it.
TEST(ReferenceKeys, GrandstreamPValueModelsWriteTheirFurtherAccounts) {
  Json lines = Json::array();
  for (int i = 1; i <= 9; ++i)
    lines.push_back(Line(i, "10" + std::to_string(10 + i), "a10" + std::to_string(10 + i), 5060, "udp"));
  auto first = [&](int n) {
    Json out = Json::array();
    for (int i = 0; i < n; ++i) out.push_back(lines[static_cast<std::size_t>(i)]);
    return out;
  };
  const std::map<std::string, int> capacity = {{"HT801", 1},   {"HT802", 2},   {"HT812", 1},   {"HT813", 1},
                                               {"HT814", 4},   {"HT818", 8},   {"GXP1160", 1}, {"GXP1405", 1},
                                               {"GXP1610", 1}, {"GXP1615", 1}, {"GXP1620", 2}, {"GXP1625", 2},
                                               {"GXP1628", 2}, {"GXP1630", 3}, {"GXP2000", 1}, {"GXP2100", 1}};
  for (const auto& [model, max] : capacity) {
    const std::string out = Render("grandstream", model, "cfgc074ad273a10.xml", first(max + 1));
    for (int i = 1; i <= max; ++i) {
      EXPECT_TRUE(Has(out, ">10" + std::to_string(10 + i) + "<")) << model << " line " << i << "\n" << out;
      EXPECT_TRUE(Has(out, ">pw" + std::to_string(i) + "<")) << model << " line " << i;
    }
    EXPECT_FALSE(Has(out, ">10" + std::to_string(11 + max) + "<")) << model << " writes line " << max + 1;
    // Lint's capacity table says the same.
    const lint::LintContext ctx{false, model, {{max + 1, "sip.example.net", 5060, "udp"}}};
    auto route = Vendors().Find("grandstream")->Route("cfgc074ad273a10.xml");
    const auto findings = lint::LintDevice(*Vendors().Find("grandstream"), {{"cfgc074ad273a10.xml", *route, out}}, ctx);
    bool unsupported = false;
    for (const auto& f : findings) unsupported = unsupported || f.rule_id == "line-unsupported";
    EXPECT_TRUE(unsupported) << model;
  }
  const std::string ht802 = Render("grandstream", "HT802", "cfgc074ad273a10.xml", first(2));
  for (const char* key : {"<P401>1</P401>", "<P747>sip.example.net:5060</P747>", "<P735>1012</P735>",
                          "<P736>a1012</P736>", "<P734>pw2</P734>", "<P830>0</P830>", "<P743>1</P743>"}) {
    EXPECT_TRUE(Has(ht802, key)) << key;
  }
  const std::string gxp1630 = Render("grandstream", "GXP1630", "cfgc074ad273a10.xml", first(3));
  for (const char* key : {"<P402>sip.example.net:5060</P402>", "<P404>1012</P404>", "<P2447>1</P2447>",
                          "<P504>1013</P504>", "<P506>pw3</P506>", "<P2547>1</P2547>"}) {
    EXPECT_TRUE(Has(gxp1630, key)) << key;
  }
  const std::string ht818 = Render("grandstream", "HT818", "cfgc074ad273a10.xml", first(8));
  for (const char* key :
       {"<P4060>1011</P4060>", "<P4090>a1011</P4090>", "<P4120>pw1</P4120>", "<P4595>1</P4595>", "<P4067>1018</P4067>",
        "<P4127>pw8</P4127>", "<P4602>1</P4602>", "<P47>sip.example.net:5060</P47>"}) {
    EXPECT_TRUE(Has(ht818, key)) << key;
  }
  EXPECT_FALSE(Has(ht818, "<P35>")) << "HT814/HT818 read the port table, not account 1's P35";
}

// FusionPBX uc926 (the HTTPS reference): P212 = 3, P194/P193 periodic check, P145 override.
TEST(ReferenceKeys, HtekUsesTheReferencedUpgradeModeAndChecksPeriodically) {
  EXPECT_TRUE(Has(Render("htek", "UC926", "cfg0010.xml"), ">3</P212>"));
  const std::string dev = Render("htek", "UC926", "cfg001fc11c22a9.xml");
  EXPECT_TRUE(Has(dev, ">3</P212>")) << dev;
  EXPECT_TRUE(Has(dev, ">1</P194>")) << dev;
  EXPECT_TRUE(Has(dev, ">1440</P193>")) << dev;
  EXPECT_TRUE(Has(dev, ">0</P145>")) << dev;
}

// ---- Key tables -------------------------------------------------------------------------

struct KeyRow {
  std::string pattern;  // '*' = a run of digits
  std::string source;
};

bool Glob(std::string_view pattern, std::string_view key) {
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

// docs/vendors/keys/<vendor>.tsv: "key<TAB>value<TAB>source", '#' lines are comments.
std::vector<KeyRow> KeyTable(const std::string& vendor) {
  std::vector<KeyRow> rows;
  std::ifstream in(kSourceDir / "docs" / "vendors" / "keys" / (vendor + ".tsv"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() == '#') continue;
    const auto t1 = line.find('\t');
    const auto t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
    EXPECT_NE(t2, std::string::npos) << vendor << ".tsv: " << line;
    if (t2 == std::string::npos) continue;
    rows.push_back({line.substr(0, t1), line.substr(t2 + 1)});
  }
  return rows;
}

// Every key of every golden file has a row with a source a reader can open: a template change
// that adds an unsourced key fails here.
TEST(ReferenceKeys, GoldenFilesWriteOnlySourcedKeys) {
  std::size_t checked = 0;
  for (const auto& vendor_dir : fs::directory_iterator(kSourceDir / "tests" / "golden")) {
    const std::string vendor_name = vendor_dir.path().filename().string();
    const Vendor* vendor = Vendors().Find(vendor_name);
    ASSERT_NE(vendor, nullptr);
    const auto rows = KeyTable(vendor_name);
    ASSERT_FALSE(rows.empty()) << "no docs/vendors/keys/" << vendor_name << ".tsv";
    for (const auto& row : rows) EXPECT_FALSE(row.source.empty()) << vendor_name << ": " << row.pattern;
    for (const auto& case_dir : fs::directory_iterator(vendor_dir.path())) {
      const Json spec = Json::parse(*ReadWholeFile(case_dir.path() / "context.json"));
      for (const auto& request : spec.at("requests")) {
        const std::string file = request.get<std::string>();
        auto route = vendor->Route(file);
        ASSERT_TRUE(route) << file;
        auto text = ReadWholeFile(case_dir.path() / ("expected." + route->template_name));
        ASSERT_TRUE(text) << case_dir.path() << " " << route->template_name;
        auto settings = lint::ParseConfig(*text, lint::SyntaxFor(*vendor, *route));
        ASSERT_TRUE(settings) << case_dir.path() << " " << file;
        for (const auto& s : *settings) {
          bool found = false;
          for (const auto& row : rows) found = found || Glob(row.pattern, s.key);
          EXPECT_TRUE(found) << vendor_name << " " << file << ": key " << s.key << " has no row in "
                             << "docs/vendors/keys/" << vendor_name << ".tsv";
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 100u);
}

}  // namespace
}  // namespace provgate::vendors
