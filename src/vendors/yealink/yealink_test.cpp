#include "vendors/yealink/yealink.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace provgate::vendors {
namespace {

const std::unique_ptr<Vendor> kYealinkVendor = MakeYealinkVendor();
const Vendor& kYealink = *kYealinkVendor;

TEST(Yealink, RoutesTheBootSequence) {
  // Firmware >= V81: MAC boot, common boot, then the legacy pair (docs/vendors/yealink.md).
  auto mac_boot = kYealink.Route("001565aabbcc.boot");
  ASSERT_TRUE(mac_boot);
  EXPECT_EQ(mac_boot->scope, FileScope::kDevice);
  EXPECT_EQ(mac_boot->template_name, "mac.boot");
  EXPECT_EQ(mac_boot->mac->str(), "001565aabbcc");

  auto common_boot = kYealink.Route("y000000000000.boot");
  ASSERT_TRUE(common_boot);
  EXPECT_EQ(common_boot->scope, FileScope::kCommon);
  EXPECT_EQ(common_boot->template_name, "common.boot");
  EXPECT_FALSE(common_boot->mac);

  auto common = kYealink.Route("y000000000096.cfg");
  ASSERT_TRUE(common);
  EXPECT_EQ(common->scope, FileScope::kCommon);
  EXPECT_EQ(common->template_name, "common.cfg");
  EXPECT_EQ(common->model_hint, "96");
  EXPECT_EQ(common->format, render::Format::kKeyValue);
  EXPECT_EQ(common->content_type, "text/plain; charset=utf-8");

  auto mac = kYealink.Route("805ec0123456.cfg");
  ASSERT_TRUE(mac);
  EXPECT_EQ(mac->scope, FileScope::kDevice);
  EXPECT_EQ(mac->template_name, "mac.cfg");
  EXPECT_EQ(mac->mac->str(), "805ec0123456");
  EXPECT_EQ(mac->format, render::Format::kKeyValue);
}

TEST(Yealink, ModelCodesOfTwoAndThreeDigits) {
  for (const auto& [file, code] : {std::pair{"y000000000025.cfg", "25"}, std::pair{"y000000000028.cfg", "28"},
                                   std::pair{"y000000000108.cfg", "108"}, std::pair{"y000000000146.cfg", "146"},
                                   std::pair{"y000000000175.cfg", "175"}, std::pair{"y000000000999.cfg", "999"}}) {
    auto r = kYealink.Route(file);
    ASSERT_TRUE(r) << file;
    EXPECT_EQ(r->model_hint, code) << file;
  }
}

TEST(Yealink, RejectsUnknownAndHostileNames) {
  const std::string ten_kb(10 * 1024, 'a');
  for (const std::string& name : {std::string(""),
                                  std::string("../x.cfg"),
                                  std::string("%2e%2e"),
                                  std::string("%2e%2e/001565aabbcc.cfg"),
                                  std::string("001565aabbcc.cfg%00"),
                                  std::string("001565aabbcc.cfg\0", 17),
                                  std::string("..\\001565aabbcc.cfg"),
                                  std::string("00\\1565aabbcc.cfg"),
                                  ten_kb,
                                  ten_kb + ".cfg",
                                  std::string("001565aabbcc.CFG"),
                                  std::string("001565AABBCC.cfg"),
                                  std::string("001565AaBbCc.boot"),
                                  std::string("001565aabbcc.BOOT"),
                                  std::string("Y000000000096.cfg"),
                                  std::string("y000000000096.CFG"),
                                  std::string("y000000000005.cfg"),
                                  std::string("y000000001096.cfg"),
                                  std::string("y00000000096.cfg"),
                                  std::string("y0000000000096.cfg"),
                                  std::string("y00000000009a.cfg"),
                                  std::string("y000000000096.boot"),
                                  std::string("00:15:65:aa:bb:cc.cfg"),
                                  std::string("001565aabbc.cfg"),
                                  std::string("001565aabbccd.cfg"),
                                  std::string("001565aabbcg.cfg"),
                                  std::string("001565aabbcc-local.cfg"),
                                  std::string("001565aabbcc.cfg.bak"),
                                  std::string("001565aabbcc"),
                                  std::string(" 001565aabbcc.cfg"),
                                  std::string("001565aabbcc.cfg "),
                                  std::string("/001565aabbcc.cfg"),
                                  std::string("001565aabbcc_Security.enc")}) {
    EXPECT_FALSE(kYealink.Route(name)) << name.substr(0, 40);
  }
}

TEST(Yealink, ParsesEveryUserAgentForm) {
  struct Case {
    const char* ua;
    const char* model;
    const char* firmware;
    const char* mac;  // "" when absent
  };
  const Case cases[] = {
      {"Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37", "T46G", "28.72.0.1", "0015654aa937"},
      {"Yealink SIP VP-T49G 51.80.0.10 00:15:65:9b:5a:44", "VP-T49G", "51.80.0.10", "0015659b5a44"},
      {"Yealink W70B 146.87.0.15 80:5e:0c:1d:65:4e", "W70B", "146.87.0.15", "805e0c1d654e"},
      {"Yealink SIP-T77U 185.87.0.10 44:db:d2:bd:b5:69", "T77U", "185.87.0.10", "44dbd2bdb569"},
      {"yealink SIP-T28P 2.73.0.50 00:15:65:11:22:33", "T28P", "2.73.0.50", "001565112233"},
      {"Yealink SIP-T56A 58.80.0.25 001565f429a4", "T56A", "58.80.0.25", "001565f429a4"},
      {"Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0", "T46G", "28.71.0.81", ""},
      {"Yealink SIP-T54W 96.86.0.100", "T54W", "96.86.0.100", ""},
      {"W52P 25.30.0.2 00:15:65:aa:bb:cc", "W52P", "25.30.0.2", "001565aabbcc"},
      {"VP530P 23.70.0.40 00:15:65:aa:bb:cd", "VP530P", "23.70.0.40", "001565aabbcd"},
      {"Yealink SIP-T54W", "T54W", "", ""},
  };
  for (const auto& c : cases) {
    const UserAgentInfo info = kYealink.ParseUserAgent(c.ua);
    EXPECT_EQ(info.model, c.model) << c.ua;
    EXPECT_EQ(info.firmware, c.firmware) << c.ua;
    EXPECT_EQ(info.mac ? info.mac->str() : "", c.mac) << c.ua;
  }
}

TEST(Yealink, IgnoresForeignAndHostileUserAgents) {
  for (const std::string& ua :
       {std::string(""), std::string("Yealink"), std::string("Mozilla/5.0 (X11; Linux x86_64)"),
        std::string("FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430"), std::string("Yealink SIP-T4<6G 1.2 x"),
        std::string("Yealink SIP-T46G\n28.72.0.1"), std::string("curl/8.0"), std::string(300, 'Y'),
        std::string("Yealink ") + std::string(100, 'T') + " 1.2"}) {
    const UserAgentInfo info = kYealink.ParseUserAgent(ua);
    EXPECT_TRUE(info.model.empty()) << ua.substr(0, 40);
    EXPECT_FALSE(info.mac) << ua.substr(0, 40);
  }
}

TEST(Yealink, InvalidMacInUserAgentIsAbsent) {
  const UserAgentInfo info = kYealink.ParseUserAgent("Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:zz");
  EXPECT_EQ(info.model, "T46G");
  EXPECT_FALSE(info.mac);
}

TEST(Yealink, TakesUploadsOfTheLocalSettingsAndContacts) {
  EXPECT_EQ(kYealink.RouteUpload("001565aabbcc-local.cfg")->kind, "local-overrides");
  EXPECT_EQ(kYealink.RouteUpload("001565aabbcc-contact.xml")->kind, "contacts");
  for (const char* bad :
       {"001565aabbcc.cfg", "001565AABBCC-local.cfg", "y000000000096.cfg", "001565aabbcc-local.xml"}) {
    EXPECT_FALSE(kYealink.RouteUpload(bad)) << bad;
  }
}

TEST(Yealink, EncryptsTheMacFileWithItsKeyInAKeyFile) {
  const Vendor* v = &kYealink;
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
}

}  // namespace
}  // namespace provgate::vendors
