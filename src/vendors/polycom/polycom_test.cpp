#include "vendors/polycom/polycom.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace provgate::vendors {
namespace {

const std::unique_ptr<Vendor> kPolycomVendor = MakePolycomVendor();
const Vendor& kPolycom = *kPolycomVendor;

TEST(Polycom, RoutesTheBootSequence) {
  // <mac>.cfg, then the CONFIG_FILES it names; 000000000000.cfg when <mac>.cfg is missing.
  auto master = kPolycom.Route("0004f2aabbcc.cfg");
  ASSERT_TRUE(master);
  EXPECT_EQ(master->scope, FileScope::kDevice);
  EXPECT_EQ(master->template_name, "master.cfg");
  EXPECT_EQ(master->mac->str(), "0004f2aabbcc");
  EXPECT_EQ(master->format, render::Format::kXml);
  EXPECT_EQ(master->content_type, "application/xml");

  auto user = kPolycom.Route("0004f2aabbcc-user.cfg");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->scope, FileScope::kDevice);
  EXPECT_EQ(user->template_name, "mac-user.cfg");
  EXPECT_EQ(user->mac->str(), "0004f2aabbcc");

  auto common = kPolycom.Route("common.cfg");
  ASSERT_TRUE(common);
  EXPECT_EQ(common->scope, FileScope::kCommon);
  EXPECT_EQ(common->template_name, "common.cfg");
  EXPECT_FALSE(common->mac);

  auto fallback = kPolycom.Route("000000000000.cfg");
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->scope, FileScope::kCommon);
  EXPECT_EQ(fallback->template_name, "default-master.cfg");
  EXPECT_EQ(fallback->format, render::Format::kXml);
}

TEST(Polycom, AcceptsMacInEitherCase) {
  for (const char* name : {"0004F2AABBCC.cfg", "0004f2AABBcc.cfg", "0004F2AABBCC-user.cfg"}) {
    auto r = kPolycom.Route(name);
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(r->mac->str(), "0004f2aabbcc") << name;
  }
}

TEST(Polycom, RejectsUnknownHostileAndUploadNames) {
  const std::string ten_kb(10 * 1024, 'a');
  for (const std::string& name : {std::string(""),
                                  std::string("../x.cfg"),
                                  std::string("%2e%2e"),
                                  std::string("0004f2aabbcc.cfg%00"),
                                  std::string("0004f2aabbcc.cfg\0", 17),
                                  std::string("..\\common.cfg"),
                                  std::string("common.cfg\\"),
                                  ten_kb,
                                  ten_kb + "-user.cfg",
                                  std::string("0004f2aabbcc.CFG"),
                                  std::string("COMMON.cfg"),
                                  std::string("common.CFG"),
                                  std::string("000000000000-user.cfg"),
                                  std::string("0004f2aabbcc-USER.cfg"),
                                  std::string("0004f2aabbcc-phone.cfg"),
                                  std::string("0004f2aabbcc-web.cfg"),
                                  std::string("0004f2aabbcc-directory.xml"),
                                  std::string("0004f2aabbcc-app.log"),
                                  std::string("0004f2aabbcc-boot.log"),
                                  std::string("000000000000-directory.xml"),
                                  std::string("000000000000-license.cfg"),
                                  std::string("sip.ld"),
                                  std::string("2345-12345-001.sip.ld"),
                                  std::string("0004f2aabbc.cfg"),
                                  std::string("0004f2aabbcg.cfg"),
                                  std::string("00:04:f2:aa:bb:cc.cfg"),
                                  std::string("0004f2aabbcc.xml"),
                                  std::string("/common.cfg"),
                                  std::string("common.cfg "),
                                  std::string("0004f2aabbcc--user.cfg")}) {
    EXPECT_FALSE(kPolycom.Route(name)) << name.substr(0, 40);
  }
}

TEST(Polycom, ParsesFileTransportUserAgents) {
  struct Case {
    const char* ua;
    const char* model;
    const char* firmware;
    const char* mac;
  };
  const Case cases[] = {
      {"FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application", "VVX_400", "4.1.4.7430", ""},
      {"FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078", "SPIP_335", "3.2.1.0078", ""},
      {"FileTransport PolycomVVX-VVX_450-UA/6.4.6.2570 Type/Updater", "VVX_450", "6.4.6.2570", ""},
      {"FileTransport PolycomRealPresenceTrio-Trio_8800-UA/7.2.2.1094 (SN:12345) Type/Application", "Trio_8800",
       "7.2.2.1094", ""},
      {"FileTransport PolycomCCX-CCX_600-UA/8.1.3.1301 (SN:64167f123456) Type/Application", "CCX_600", "8.1.3.1301",
       "64167f123456"},
      {"FileTransport PolyEdge-Edge_E450-UA/8.0.0.15602 Type/Application", "Edge_E450", "8.0.0.15602", ""},
  };
  for (const auto& c : cases) {
    const UserAgentInfo info = kPolycom.ParseUserAgent(c.ua);
    EXPECT_EQ(info.model, c.model) << c.ua;
    EXPECT_EQ(info.firmware, c.firmware) << c.ua;
    EXPECT_EQ(info.mac ? info.mac->str() : "", c.mac) << c.ua;
  }
}

TEST(Polycom, IgnoresForeignAndHostileUserAgents) {
  for (const std::string& ua :
       {std::string(""), std::string("FileTransport"), std::string("FileTransport "),
        std::string("Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37"), std::string("FileTransport Acme-X-UA/1"),
        std::string("FileTransport PolycomVVX-VVX_400/4.1"), std::string("FileTransport PolycomVVX-VVX<400-UA/4.1"),
        std::string("FileTransport PolycomVVX-UA/4.1"), std::string(400, 'F')}) {
    const UserAgentInfo info = kPolycom.ParseUserAgent(ua);
    EXPECT_TRUE(info.model.empty()) << ua.substr(0, 40);
    EXPECT_FALSE(info.mac) << ua.substr(0, 40);
  }
}

TEST(Polycom, MacOnlyFromTwelveHexSerial) {
  for (const char* ua : {"FileTransport PolycomVVX-VVX_400-UA/6.0 (SN:0004f2aabbc) Type/Application",
                         "FileTransport PolycomVVX-VVX_400-UA/6.0 (SN:00:04:f2:aa:bb:cc)",
                         "FileTransport PolycomVVX-VVX_400-UA/6.0 (SN:0004f2aabbcc",
                         "FileTransport PolycomVVX-VVX_400-UA/6.0 Type/Application (SN:0004f2aabbcc)"}) {
    EXPECT_FALSE(kPolycom.ParseUserAgent(ua).mac) << ua;
  }
}

TEST(Polycom, TakesUploadsOnlyOfAllowListedNamesOfOneMac) {
  for (const auto& [name, kind] :
       std::vector<std::pair<std::string, std::string>>{{"0004f2aabbcc-phone.cfg", "phone-overrides"},
                                                        {"0004F2AABBCC-web.cfg", "web-overrides"},
                                                        {"0004f2aabbcc-app.log", "app-log"},
                                                        {"0004f2aabbcc-boot.log", "boot-log"},
                                                        {"0004f2aabbcc-directory.xml", "directory"},
                                                        {"0004f2aabbcc-calls.xml", "calls"}}) {
    auto u = kPolycom.RouteUpload(name);
    ASSERT_TRUE(u) << name;
    EXPECT_EQ(u->mac.str(), "0004f2aabbcc");
    EXPECT_EQ(u->kind, kind);
    EXPECT_GT(u->max_bytes, 0u);
    EXPECT_LE(u->max_bytes, 4u * 1024 * 1024);
    EXPECT_FALSE(kPolycom.Route(name)) << "uploads never share a name with a generated file";
  }
  for (const char* bad : {"0004f2aabbcc-user.cfg", "0004f2aabbcc.cfg", "common.cfg", "000000000000-phone.cfg",
                          "../0004f2aabbcc-phone.cfg", "0004f2aabbcc-phone.cfg.bak", "0004f2aabbc-app.log",
                          "000000000000-directory.xml", "0004f2aabbcc-license.cfg"}) {
    EXPECT_FALSE(kPolycom.RouteUpload(bad)) << bad;
  }
}

}  // namespace
}  // namespace provgate::vendors
