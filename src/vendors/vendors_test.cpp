// Routing and User-Agent tests for the vendors added with issue 5, with each vendor's real
// request sequence and real User-Agent strings (VENDORS.md), plus the upload allow-lists,
// encryption schemes and key-file routes of every vendor.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vendors/vendor.hpp"

namespace provgate::vendors {
namespace {

const Registry& Vendors() {
  static const Registry r = BuiltinVendors();
  return r;
}

struct Step {
  const char* file;
  FileScope scope;
  const char* tpl;
  const char* mac;  // "" for kCommon
  const char* model_hint;
};

void ExpectSequence(const char* vendor, const std::vector<Step>& steps) {
  const Vendor* v = Vendors().Find(vendor);
  ASSERT_NE(v, nullptr) << vendor;
  for (const Step& s : steps) {
    auto r = v->Route(s.file);
    ASSERT_TRUE(r) << vendor << " " << s.file;
    EXPECT_EQ(r->scope, s.scope) << s.file;
    EXPECT_EQ(r->template_name, s.tpl) << s.file;
    EXPECT_EQ(r->mac ? r->mac->str() : "", s.mac) << s.file;
    EXPECT_EQ(r->model_hint, s.model_hint) << s.file;
    EXPECT_EQ(r->format, render::Format::kXml) << s.file;
    EXPECT_EQ(r->content_type, "application/xml") << s.file;
  }
}

void ExpectNotRouted(const char* vendor, const std::vector<std::string>& names) {
  const Vendor* v = Vendors().Find(vendor);
  ASSERT_NE(v, nullptr);
  for (const auto& n : names) EXPECT_FALSE(v->Route(n)) << vendor << " " << n.substr(0, 40);
}

// Names every vendor must refuse: traversal, encodings, NUL, oversize, empty.
std::vector<std::string> Hostile() {
  return {"", "..", "../cfg.xml", "%2e%2e%2fcfg.xml", std::string("cfg.xml\0", 8), "cfg.xml/",
          "..\\cfg.xml", std::string(4096, 'a'), "/etc/passwd", "000000000000.xml",
          "cfg000000000000.xml", "snomD785-000000000000.htm"};
}

TEST(Cisco, RoutesSpaAndMppRequestSequences) {
  // SPA: default Profile_Rule /spa$PSN.cfg, then the chained Profile_Rule_B $MA.xml, then
  // the encrypted Profile_Rule_C $MA.cfg.
  ExpectSequence("cisco", {{"spa504g.cfg", FileScope::kCommon, "model.xml", "", "504g"},
                           {"spa112.cfg", FileScope::kCommon, "model.xml", "", "112"},
                           {"0002fdff2103.xml", FileScope::kDevice, "mac.xml", "0002fdff2103", ""},
                           {"0002fdff2103.cfg", FileScope::kDevice, "mac-secrets.xml", "0002fdff2103", ""}});
  // MPP: the model file, then $MA.xml; $(MAU) spells the MAC upper case.
  ExpectSequence("cisco", {{"8841-3PCC.xml", FileScope::kCommon, "model.xml", "", "CP-8841-3PCC"},
                           {"CP-7841-3PCC.xml", FileScope::kCommon, "model.xml", "", "CP-7841-3PCC"},
                           {"00562B043615.xml", FileScope::kDevice, "mac.xml", "00562b043615", ""}});
}

TEST(Cisco, RefusesEverythingElse) {
  auto names = Hostile();
  for (const char* n : {"spa.cfg", "spaSPA504G.cfg", "spa504g.xml", "SPA504G.cfg", "spa-942.cfg",
                        "8841-3pcc.xml", "88410-3PCC.xml", "CP-8841.xml", "0002fdff2103.XML",
                        "0002fdff210.xml", "0002fdff2103.cfg.xml", "spa$PSN.cfg", "XMLDefault.cnf.xml",
                        "SEP0002FDFF2103.cnf.xml"}) {
    names.emplace_back(n);
  }
  ExpectNotRouted("cisco", names);
}

TEST(Cisco, ParsesUserAgents) {
  const Vendor* v = Vendors().Find("cisco");
  auto spa = v->ParseUserAgent("Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)");
  EXPECT_EQ(spa.model, "SPA508G");
  EXPECT_EQ(spa.firmware, "7.4.8a");
  ASSERT_TRUE(spa.mac);
  EXPECT_EQ(spa.mac->str(), "0002fdff2103");

  auto serial_only = v->ParseUserAgent("Cisco/SPA525G-7.4.7 (CBT141900G7)");
  EXPECT_EQ(serial_only.model, "SPA525G");
  EXPECT_EQ(serial_only.firmware, "7.4.7");
  EXPECT_FALSE(serial_only.mac);

  auto linksys = v->ParseUserAgent("Linksys/SPA-942-6.1.5(a) (88019FA42805)");
  EXPECT_EQ(linksys.model, "SPA-942");
  EXPECT_EQ(linksys.firmware, "6.1.5(a)");
  EXPECT_FALSE(linksys.mac) << "a lone group is the serial";

  auto mpp = v->ParseUserAgent("Cisco-CP-8841-3PCC/11.0 (00562b043615)");
  EXPECT_EQ(mpp.model, "CP-8841-3PCC");
  EXPECT_EQ(mpp.firmware, "11.0");
  EXPECT_FALSE(mpp.mac) << "Cisco calls this value the serial";

  for (const char* ua : {"", "Cisco", "Cisco/", "Cisco/SPA508G", "Yealink SIP-T46G 28.72.0.1",
                         "Cisco/SPA<508>-1.0", "Cisco-CP-8841-3PCC"}) {
    EXPECT_TRUE(v->ParseUserAgent(ua).model.empty()) << ua;
  }
}

TEST(Cisco, EncryptsOnlyTheSecretsFileAndRequiresIt) {
  const Vendor* v = Vendors().Find("cisco");
  auto scheme = v->Encryption(*v->Route("0002fdff2103.cfg"));
  ASSERT_TRUE(scheme);
  EXPECT_EQ(scheme->cipher, Cipher::kOpenSslAes256CbcMd5);
  EXPECT_EQ(scheme->delivery, KeyDelivery::kPlainBootstrapFile);
  EXPECT_EQ(scheme->key_variable, "config_key");
  EXPECT_TRUE(scheme->required);
  EXPECT_FALSE(v->Encryption(*v->Route("0002fdff2103.xml")));
  EXPECT_FALSE(v->Encryption(*v->Route("spa504g.cfg")));
}

TEST(Grandstream, RoutesTheBootSequence) {
  // cfg<mac> (binary) is requested first and not routed; then XML, model, common.
  EXPECT_FALSE(Vendors().Find("grandstream")->Route("cfgc074ad2bd859"));
  ExpectSequence("grandstream",
                 {{"cfgc074ad2bd859.xml", FileScope::kDevice, "mac.xml", "c074ad2bd859", ""},
                  {"cfggxp1628.xml", FileScope::kCommon, "model.xml", "", "gxp1628"},
                  {"cfght801.xml", FileScope::kCommon, "model.xml", "", "ht801"},
                  {"cfg.xml", FileScope::kCommon, "common.xml", "", ""}});
}

TEST(Grandstream, RefusesEverythingElse) {
  auto names = Hostile();
  for (const char* n : {"cfgC074AD2BD859.xml", "cfgc074ad2bd859.bin", "cfg.XML",
                        "cfgGXP1628.xml", "cfggxp.xml", "cfg1628.xml", "cfg-gxp1628.xml", "cfgxml",
                        "cfggxp1628gxp1628gxp.xml"}) {
    names.emplace_back(n);
  }
  ExpectNotRouted("grandstream", names);
}

TEST(Grandstream, ParsesUserAgents) {
  const Vendor* v = Vendors().Find("grandstream");
  auto a = v->ParseUserAgent("Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859");
  EXPECT_EQ(a.model, "GXP1628");
  EXPECT_EQ(a.firmware, "1.0.4.138");
  ASSERT_TRUE(a.mac);
  EXPECT_EQ(a.mac->str(), "c074ad2bd859");
  auto ht = v->ParseUserAgent("Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10");
  EXPECT_EQ(ht.model, "HT801");
  EXPECT_EQ(ht.firmware, "1.0.17.5");
  EXPECT_EQ(ht.mac->str(), "c074ad273a10");
  auto old = v->ParseUserAgent("Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8");
  EXPECT_EQ(old.model, "GXP2000");
  EXPECT_EQ(old.firmware, "1.2.5.3");
  EXPECT_EQ(old.mac->str(), "000b822726c8");
  EXPECT_TRUE(v->ParseUserAgent("Grandstream").model.empty());
  EXPECT_TRUE(v->ParseUserAgent("Fanvil X4 2.10.2.6887 0c383e07e16c").model.empty());
}

TEST(Grandstream, EncryptsTheDeviceFileAfterAPlainCopy) {
  const Vendor* v = Vendors().Find("grandstream");
  auto scheme = v->Encryption(*v->Route("cfgc074ad2bd859.xml"));
  ASSERT_TRUE(scheme);
  EXPECT_EQ(scheme->cipher, Cipher::kOpenSslAes256CbcMd5);
  EXPECT_EQ(scheme->delivery, KeyDelivery::kPriorPlainCopy);
  EXPECT_FALSE(scheme->required);
  EXPECT_FALSE(v->Encryption(*v->Route("cfg.xml")));
}

TEST(Snom, RoutesModelThenMacFile) {
  ExpectSequence("snom", {{"snomD785.htm", FileScope::kCommon, "model.xml", "", "D785"},
                          {"snomD785-000413922D24.htm", FileScope::kDevice, "mac.xml", "000413922d24", "D785"},
                          {"snom320.htm", FileScope::kCommon, "model.xml", "", "320"}});
}

TEST(Snom, RefusesEverythingElse) {
  auto names = Hostile();
  for (const char* n : {"snomD785-000413922d24.htm", "snomD785-000413922D2.htm", "snom.htm", "snomD785.html",
                        "snomD785-.htm", "snom-000413922D24.htm", "SNOMD785.htm", "snomD7-85-000413922D24.htm",
                        "snomD785-000413922D24.xml", "snomD785D785D785.htm"}) {
    names.emplace_back(n);
  }
  ExpectNotRouted("snom", names);
}

TEST(Snom, ParsesUserAgents) {
  const Vendor* v = Vendors().Find("snom");
  auto a = v->ParseUserAgent(
      "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)");
  EXPECT_EQ(a.model, "D785");
  EXPECT_EQ(a.firmware, "10.1.33.33");
  ASSERT_TRUE(a.mac);
  EXPECT_EQ(a.mac->str(), "000413922d24");
  auto old = v->ParseUserAgent("Mozilla/4.0 (compatible; snom320-SIP 8.7.3.25 1.1.3-s)");
  EXPECT_EQ(old.model, "320");
  EXPECT_EQ(old.firmware, "8.7.3.25");
  EXPECT_FALSE(old.mac);
  EXPECT_TRUE(v->ParseUserAgent("Mozilla/5.0 (X11; Linux x86_64)").model.empty());
  EXPECT_TRUE(v->ParseUserAgent("snom").model.empty());
}

TEST(Fanvil, RoutesCommonThenMacFile) {
  ExpectSequence("fanvil", {{"f0C00580000.cfg", FileScope::kCommon, "common.cfg", "", "f0C00580000"},
                            {"F0V00X200000.cfg", FileScope::kCommon, "common.cfg", "", "F0V00X200000"},
                            {"f0X2hw1.100.cfg", FileScope::kCommon, "common.cfg", "", "f0X2hw1.100"},
                            {"0c383e07e16c.cfg", FileScope::kDevice, "mac.cfg", "0c383e07e16c", ""}});
}

TEST(Fanvil, RefusesEverythingElse) {
  auto names = Hostile();
  for (const char* n : {"0C383E07E16C.cfg", "0c383e07e16c.xml", "f0.cfg", "f0..cfg", "f0a..b.cfg",
                        "x0C00580000.cfg", "f0C0058-0000.cfg", "fanvil_x210_v2_hwv2_0.txt",
                        "f0C00580000f0C00580000000.cfg"}) {
    names.emplace_back(n);
  }
  ExpectNotRouted("fanvil", names);
}

TEST(Fanvil, ParsesUserAgents) {
  const Vendor* v = Vendors().Find("fanvil");
  auto x4 = v->ParseUserAgent("Fanvil X4 2.10.2.6887 0c383e07e16c");
  EXPECT_EQ(x4.model, "X4");
  EXPECT_EQ(x4.firmware, "2.10.2.6887");
  EXPECT_EQ(x4.mac->str(), "0c383e07e16c");
  auto x6 = v->ParseUserAgent("Fanvil X6U Pro 0.0.10 0c383e2cd782");
  EXPECT_EQ(x6.model, "X6U Pro");
  EXPECT_EQ(x6.firmware, "0.0.10");
  EXPECT_EQ(x6.mac->str(), "0c383e2cd782");
  EXPECT_TRUE(v->ParseUserAgent("Fanvil").model.empty());
  EXPECT_TRUE(v->ParseUserAgent("Fanvil X4 <b> 1.0 0c383e07e16c").model.empty());
}

TEST(Gigaset, RoutesTheMacFileInEitherCase) {
  ExpectSequence("gigaset", {{"7C2F80E0D605.xml", FileScope::kDevice, "mac.xml", "7c2f80e0d605", ""},
                             {"7c2f80e0d605.xml", FileScope::kDevice, "mac.xml", "7c2f80e0d605", ""}});
  auto names = Hostile();
  for (const char* n : {"7C2F80e0d605.xml", "provisioning.xml", "master.bin", "7C2F80E0D605.XML",
                        "7C2F80E0D605.cfg", "7C:2F:80:E0:D6:05.xml"}) {
    names.emplace_back(n);
  }
  ExpectNotRouted("gigaset", names);
}

TEST(Gigaset, ParsesUserAgents) {
  const Vendor* v = Vendors().Find("gigaset");
  auto n870 = v->ParseUserAgent("Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605");
  EXPECT_EQ(n870.model, "N870 IP PRO");
  EXPECT_EQ(n870.firmware, "83.V2.11.0+build.a546b91");
  EXPECT_EQ(n870.mac->str(), "7c2f80e0d605");
  auto n720 = v->ParseUserAgent("Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4;Handset=3");
  EXPECT_EQ(n720.model, "N720 DM PRO");
  EXPECT_EQ(n720.mac->str(), "7c2f80ca21e4");
  auto n510 = v->ParseUserAgent("N510 IP PRO/42.245.00.000.000");
  EXPECT_EQ(n510.model, "N510 IP PRO");
  EXPECT_EQ(n510.firmware, "42.245.00.000.000");
  EXPECT_FALSE(n510.mac);
  EXPECT_TRUE(v->ParseUserAgent("curl/8.0").model.empty());
}

TEST(Htek, RoutesModelThenMacFile) {
  // Factory000x.bin, $mac.cfg and the binary cfg<mac> come first and are not routed.
  const Vendor* v = Vendors().Find("htek");
  for (const char* n : {"Factory0010.bin", "001fc11c22a9.cfg", "cfg001fc11c22a9"}) EXPECT_FALSE(v->Route(n)) << n;
  ExpectSequence("htek", {{"cfg0010.xml", FileScope::kCommon, "model.xml", "", "0010"},
                          {"cfg0016.xml", FileScope::kCommon, "model.xml", "", "0016"},
                          {"cfg001fc11c22a9.xml", FileScope::kDevice, "mac.xml", "001fc11c22a9", ""}});
}

TEST(Htek, RefusesEverythingElse) {
  auto names = Hostile();
  for (const char* n : {"cfg001FC11C22A9.xml", "cfg001fc11c22a9.XML", "cfg001fc11c22a.xml", "cfg0010.XML",
                        "cfg010.xml", "cfg00100.xml", "cfg00a0.xml", "cfg.xml", "cfguc926.xml", "cfg-010.xml",
                        "cfg001fc11c22a9.xml.xml", "Cfg0010.xml", "cfg0010.cfg"}) {
    names.emplace_back(n);
  }
  ExpectNotRouted("htek", names);
}

TEST(Htek, ParsesUserAgents) {
  const Vendor* v = Vendors().Find("htek");
  auto a = v->ParseUserAgent("Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9");
  EXPECT_EQ(a.model, "UC903");
  EXPECT_EQ(a.firmware, "2.0.4.2");
  ASSERT_TRUE(a.mac);
  EXPECT_EQ(a.mac->str(), "001fc11c22a9");
  auto upper = v->ParseUserAgent("Htek UC926 2.0.4.6.41 00:1F:C1:1C:22:A9");
  EXPECT_EQ(upper.model, "UC926");
  EXPECT_EQ(upper.firmware, "2.0.4.6.41");
  EXPECT_EQ(upper.mac->str(), "001fc11c22a9");
  auto no_mac = v->ParseUserAgent("Htek UC912G 2.0.4.4.58");
  EXPECT_EQ(no_mac.model, "UC912G");
  EXPECT_FALSE(no_mac.mac);
  EXPECT_FALSE(v->ParseUserAgent("Htek UC903 2.0.4.2 00:00:00:00:00:00").mac);
  EXPECT_FALSE(v->ParseUserAgent("Htek UC903 2.0.4.2 001fc11c22a9x").mac);
  EXPECT_TRUE(v->ParseUserAgent("Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9 extra").model.empty());
  for (const char* ua : {"", "Htek", "Htek <UC903> 2.0", "htek UC903 2.0.4.2 00:1f:c1:1c:22:a9",
                         "Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859"}) {
    EXPECT_TRUE(v->ParseUserAgent(ua).model.empty()) << ua;
  }
  EXPECT_TRUE(v->ParseUserAgent(std::string(300, 'H')).model.empty());
}

TEST(Htek, NoUploadsNoEncryptionNoKeyFiles) {
  const Vendor* v = Vendors().Find("htek");
  EXPECT_FALSE(v->Encryption(*v->Route("cfg001fc11c22a9.xml")));
  EXPECT_FALSE(v->Encryption(*v->Route("cfg0010.xml")));
  EXPECT_FALSE(v->RouteUpload("cfg001fc11c22a9.xml"));
  EXPECT_FALSE(v->RouteKeyFile("cfg001fc11c22a9.xml"));
}

TEST(Uploads, OnlyAllowListedNamesOfOneMac) {
  const Vendor* poly = Vendors().Find("polycom");
  for (const auto& [name, kind] : std::vector<std::pair<std::string, std::string>>{
           {"0004f2aabbcc-phone.cfg", "phone-overrides"}, {"0004F2AABBCC-web.cfg", "web-overrides"},
           {"0004f2aabbcc-app.log", "app-log"},           {"0004f2aabbcc-boot.log", "boot-log"},
           {"0004f2aabbcc-directory.xml", "directory"},   {"0004f2aabbcc-calls.xml", "calls"}}) {
    auto u = poly->RouteUpload(name);
    ASSERT_TRUE(u) << name;
    EXPECT_EQ(u->mac.str(), "0004f2aabbcc");
    EXPECT_EQ(u->kind, kind);
    EXPECT_GT(u->max_bytes, 0u);
    EXPECT_LE(u->max_bytes, 4u * 1024 * 1024);
    EXPECT_FALSE(poly->Route(name)) << "uploads never share a name with a generated file";
  }
  const Vendor* ylk = Vendors().Find("yealink");
  EXPECT_EQ(ylk->RouteUpload("001565aabbcc-local.cfg")->kind, "local-overrides");
  EXPECT_EQ(ylk->RouteUpload("001565aabbcc-contact.xml")->kind, "contacts");
  for (const char* bad : {"0004f2aabbcc-user.cfg", "0004f2aabbcc.cfg", "common.cfg", "000000000000-phone.cfg",
                          "../0004f2aabbcc-phone.cfg", "0004f2aabbcc-phone.cfg.bak", "0004f2aabbc-app.log",
                          "000000000000-directory.xml", "0004f2aabbcc-license.cfg"}) {
    EXPECT_FALSE(poly->RouteUpload(bad)) << bad;
  }
  for (const char* bad : {"001565aabbcc.cfg", "001565AABBCC-local.cfg", "y000000000096.cfg", "001565aabbcc-local.xml"}) {
    EXPECT_FALSE(ylk->RouteUpload(bad)) << bad;
  }
  for (const char* vendor : {"cisco", "grandstream", "snom", "fanvil", "gigaset"}) {
    EXPECT_FALSE(Vendors().Find(vendor)->RouteUpload("0004f2aabbcc-phone.cfg")) << vendor;
  }
}

TEST(Encryption, YealinkMacFileWithKeyFile) {
  const Vendor* v = Vendors().Find("yealink");
  auto scheme = v->Encryption(*v->Route("001565aabbcc.cfg"));
  ASSERT_TRUE(scheme);
  EXPECT_EQ(scheme->cipher, Cipher::kYealinkAes128Ecb);
  EXPECT_EQ(scheme->delivery, KeyDelivery::kKeyFile);
  EXPECT_FALSE(scheme->required);
  EXPECT_FALSE(v->Encryption(*v->Route("y000000000096.cfg")));
  EXPECT_FALSE(v->Encryption(*v->Route("001565aabbcc.boot")));
  auto key = v->RouteKeyFile("001565aabbcc_Security.enc");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->mac.str(), "001565aabbcc");
  EXPECT_EQ(key->protected_file, "001565aabbcc.cfg");
  EXPECT_FALSE(v->RouteKeyFile("y000000000096_Security.enc"));
  EXPECT_FALSE(v->RouteKeyFile("001565AABBCC_Security.enc"));
  EXPECT_FALSE(v->Route("001565aabbcc_Security.enc")) << "key files are not templates";
  for (const char* vendor : {"polycom", "snom", "fanvil", "gigaset"}) {
    const Vendor* other = Vendors().Find(vendor);
    EXPECT_FALSE(other->RouteKeyFile("001565aabbcc_Security.enc")) << vendor;
  }
}

TEST(Registry, NoTwoVendorsClaimTheSameRequest) {
  // Every vendor's sample names are refused by every other vendor, so a device's vendor
  // alone decides what a name means.
  const std::vector<std::pair<std::string, std::string>> samples = {
      {"yealink", "001565aabbcc.boot"}, {"yealink", "y000000000096.cfg"}, {"polycom", "0004f2aabbcc-user.cfg"},
      {"cisco", "spa504g.cfg"},         {"cisco", "8841-3PCC.xml"},       {"grandstream", "cfgc074ad2bd859.xml"},
      {"grandstream", "cfg.xml"},       {"snom", "snomD785.htm"},         {"fanvil", "f0C00580000.cfg"},
      {"htek", "cfg0010.xml"}};
  for (const auto& [owner, name] : samples) {
    for (const auto& other : Vendors().Names()) {
      if (other == owner) continue;
      // The one documented overlap: Grandstream and Htek both call the device file
      // cfg<mac>.xml (VENDORS.md 5.1, 12); checked below.
      if (owner == "grandstream" && other == "htek" && name == "cfgc074ad2bd859.xml") continue;
      EXPECT_FALSE(Vendors().Find(other)->Route(name)) << other << " claims " << name;
    }
  }
}

TEST(Registry, GrandstreamAndHtekReadTheSameMacFromTheirSharedDeviceFileName) {
  // Pipeline::MacNamedBy takes the first vendor's reading of a name; for the shared name both
  // readings must name the same device, so the answer does not depend on registry order.
  for (const char* name : {"cfgc074ad2bd859.xml", "cfg001fc11c22a9.xml"}) {
    auto gs = Vendors().Find("grandstream")->Route(name);
    auto htek = Vendors().Find("htek")->Route(name);
    ASSERT_TRUE(gs && htek) << name;
    EXPECT_EQ(gs->scope, FileScope::kDevice);
    EXPECT_EQ(htek->scope, FileScope::kDevice);
    EXPECT_EQ(gs->mac, htek->mac) << name;
  }
}

}  // namespace
}  // namespace provgate::vendors
