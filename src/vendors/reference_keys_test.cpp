// Rendered configs held against public references: the defects a key-by-key comparison with
// FusionPBX, wazo-provd-plugins and the vendors' guides found (docs/vendors/<vendor>.md), and
// the key tables docs/vendors/keys/<vendor>.tsv that every golden file must stay within.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
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
  return {{"index", index},          {"display_name", "L" + std::to_string(index)},
          {"user", user},            {"auth_user", auth_user},
          {"registrar", "sip.example.net"}, {"port", port},
          {"transport", transport},  {"is_udp", transport == "udp"},
          {"is_tcp", transport == "tcp"},   {"is_tls", transport == "tls"},
          {"password", "pw" + std::to_string(index)}};
}

// Renders `file` of `vendor` for a device of `model` with `lines`, like pipeline::RenderFile.
std::string Render(const std::string& vendor, const std::string& model, const std::string& file,
                   const Json& lines = Json::array(), const Json& device_vars = Json::object()) {
  auto route = Vendors().Find(vendor)->Route(file);
  EXPECT_TRUE(route) << vendor << " " << file;
  if (!route) return {};
  Json ctx = Templates().BaseVars(vendor, model);
  ctx["server"] = {{"provisioning_url", "https://prov.example.net/p/"}};
  ctx["file"] = {{"name", file}, {"model_hint", route->model_hint}};
  if (route->scope == FileScope::kDevice) {
    render::MergeVars(ctx, device_vars);
    ctx["device"] = {{"mac", route->mac->str()}, {"mac_upper", route->mac->Upper()}, {"model", model}};
    ctx["lines"] = lines;
    for (const auto& l : lines) ctx["line" + std::to_string(l["index"].get<int>())] = l;
  }
  const render::Template* tpl = Templates().Find(vendor, route->template_name);
  EXPECT_NE(tpl, nullptr) << vendor << " " << route->template_name;
  return tpl == nullptr ? std::string() : tpl->Render(ctx, route->format);
}

bool Has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// SPA default Use_Auth_ID_N_ = No: without Yes the phone registers with User_ID, not Auth_ID.
TEST(ReferenceKeys, CiscoLinesUseTheirSeparateAuthName) {
  const std::string out = Render("cisco", "SPA504G", "0002fdff2103.xml", Json::array({Line(1, "1001", "auth1001", 5060, "udp")}));
  EXPECT_TRUE(Has(out, "<Auth_ID_1_>auth1001</Auth_ID_1_>")) << out;
  EXPECT_TRUE(Has(out, "<Use_Auth_ID_1_>Yes</Use_Auth_ID_1_>")) << out;
  EXPECT_FALSE(Has(out, "Secure_Call_Setting_1_")) << "not a per-line key";
  EXPECT_TRUE(Has(out, "<Auth_INVITE_1_>No</Auth_INVITE_1_>")) << "both references answer unchallenged";
}

TEST(ReferenceKeys, CiscoAdminPasswordUnderBothFamiliesNames) {
  const std::string out = Render("cisco", "CP-8841-3PCC", "00562b043615.xml", Json::array(), {{"admin_password", "adm"}});
  EXPECT_TRUE(Has(out, "<Admin_Password>adm</Admin_Password>")) << out;  // MPP
  EXPECT_TRUE(Has(out, "<Admin_Passwd>adm</Admin_Passwd>")) << out;      // SPA
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
  // A content version from the render context wins over the fixed one.
  Json ctx = Templates().BaseVars("fanvil", "X7");
  ctx["file"] = {{"content_version", "0000000042"}};
  EXPECT_TRUE(Has(Templates().Find("fanvil", "common.cfg")->Render(ctx, render::Format::kXml),
                  "<Version>2.0000000042</Version>"));
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

// wazo Nx70: 5-digit handset index created with add_hs, provider per line with port and
// transport.
TEST(ReferenceKeys, GigasetWritesHandsetAccountsAndProviderTransport) {
  const std::string out = Render("gigaset", "N870", "7C2F80E0D605.xml",
                                 Json::array({Line(1, "1001", "a1001", 5061, "tls"), Line(2, "1002", "1002", 5060, "udp")}));
  EXPECT_TRUE(Has(out, "<oper name=\"add_hs\" value=\"00001\">")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipAccount.00001.AuthName\" value=\"a1001\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipAccount.00001.ProviderId\" value=\"0\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipProvider.0.RegServerPort\" value=\"5061\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipProvider.0.TransportProtocol\" value=\"3\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipAccount.00002.ProviderId\" value=\"1\"")) << out;
  EXPECT_TRUE(Has(out, "name=\"SipProvider.1.TransportProtocol\" value=\"1\"")) << out;
  EXPECT_FALSE(Has(out, "SipAccount.1.")) << out;
  EXPECT_TRUE(Has(out, "name=\"DmGlobal.0.TimeZone\" value=\"Greenwich\"")) << out;
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
  for (const char* model : {"T46G", "T42G", "T48G", "T41P", "T40P", "T48S", "T46S", "T42S", "T41S", "T40G",
                            "T43U", "T46U", "T48U", "T42U", "T53", "T53W", "T54W", "T57W", "T58W", "CP960",
                            "T31G", "T33G", "W52P", "W56P", "W60B", "W70B", "W80", "T99X", "SIP-T46U"}) {
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
    EXPECT_TRUE(Has(out, "<P36>a1001</P36>")) << out;
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
  for (const char* key : {"provisioning.auto.mode", "provisioning.auto.minute", "provisioning.config.serverPath",
                          "provisioning.override.dhcp.allowCommonOptions", "security.webAccessMode",
                          "dateTime.timezone\">TZN+0<"}) {
    EXPECT_TRUE(Has(v2, key)) << key;
  }
  const std::string v1 = Render("grandstream", "HT802", "cfgc074ad2bd859.xml");
  for (const char* key : {"<P194>1</P194>", "<P193>1440</P193>", "<P145>0</P145>", "<P64>TZN+0</P64>", "<P237>"}) {
    EXPECT_TRUE(Has(v1, key)) << key;
  }
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
