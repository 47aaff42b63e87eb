#include "vendors/htek/htek.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "vendors/testing/route_check.hpp"

namespace provgate::vendors {
namespace {

const std::unique_ptr<Vendor> kHtek = MakeHtekVendor();

TEST(Htek, RoutesModelThenMacFile) {
  // Factory000x.bin, $mac.cfg and the binary cfg<mac> come first and are not routed.
  const Vendor* v = kHtek.get();
  for (const char* n : {"Factory0010.bin", "001fc11c22a9.cfg", "cfg001fc11c22a9"}) EXPECT_FALSE(v->Route(n)) << n;
  testing::ExpectSequence(*kHtek, {{"cfg0010.xml", FileScope::kCommon, "model.xml", "", "0010"},
                                   {"cfg0016.xml", FileScope::kCommon, "model.xml", "", "0016"},
                                   {"cfg001fc11c22a9.xml", FileScope::kDevice, "mac.xml", "001fc11c22a9", ""}});
}

TEST(Htek, RefusesEverythingElse) {
  auto names = testing::HostileNames();
  for (const char* n : {"cfg001FC11C22A9.xml", "cfg001fc11c22a9.XML", "cfg001fc11c22a.xml", "cfg0010.XML", "cfg010.xml",
                        "cfg00100.xml", "cfg00a0.xml", "cfg.xml", "cfguc926.xml", "cfg-010.xml",
                        "cfg001fc11c22a9.xml.xml", "Cfg0010.xml", "cfg0010.cfg"}) {
    names.emplace_back(n);
  }
  testing::ExpectNotRouted(*kHtek, names);
}

TEST(Htek, ParsesUserAgents) {
  const Vendor* v = kHtek.get();
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
  const Vendor* v = kHtek.get();
  EXPECT_FALSE(v->Encryption(*v->Route("cfg001fc11c22a9.xml")));
  EXPECT_FALSE(v->Encryption(*v->Route("cfg0010.xml")));
  EXPECT_FALSE(v->RouteUpload("cfg001fc11c22a9.xml"));
  EXPECT_FALSE(v->RouteKeyFile("cfg001fc11c22a9.xml"));
}

}  // namespace
}  // namespace provgate::vendors
