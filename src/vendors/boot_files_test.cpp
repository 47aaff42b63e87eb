// Vendor::BootFiles: every name a vendor lists for a model routes, device files carry the
// device's MAC, and the sequences match each vendor's documented request order (docs/vendors/).
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

core::MacAddress Mac(const char* text) { return *core::MacAddress::Parse(text); }

std::vector<std::string> Boot(const char* vendor, const char* mac, const char* model) {
  const Vendor* v = Vendors().Find(vendor);
  EXPECT_NE(v, nullptr) << vendor;
  return v == nullptr ? std::vector<std::string>{} : v->BootFiles(Mac(mac), model);
}

TEST(BootFiles, FollowEachVendorsRequestOrder) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Boot("yealink", "001565aabbcc", "T54W"), (V{"001565aabbcc.boot", "y000000000096.cfg", "001565aabbcc.cfg"}));
  EXPECT_EQ(Boot("yealink", "805ec0d4e5f6", "T46U"), (V{"805ec0d4e5f6.boot", "y000000000108.cfg", "805ec0d4e5f6.cfg"}));
  EXPECT_EQ(Boot("yealink", "805ec0d4e5f6", "W70B"), (V{"805ec0d4e5f6.boot", "y000000000146.cfg", "805ec0d4e5f6.cfg"}));
  // Spelled unlike the model table: the model-independent common file, as mac.boot includes.
  EXPECT_EQ(Boot("yealink", "805ec0d4e5f6", "SIP-T46U"),
            (V{"805ec0d4e5f6.boot", "y000000000000.cfg", "805ec0d4e5f6.cfg"}));
  EXPECT_EQ(Boot("polycom", "0004f2aabbcc", "VVX_450"), (V{"0004f2aabbcc.cfg", "0004f2aabbcc-user.cfg", "common.cfg"}));
  EXPECT_EQ(Boot("cisco", "0002fdff2103", "SPA504G"), (V{"spa504G.cfg", "0002fdff2103.xml", "0002fdff2103.cfg"}));
  EXPECT_EQ(Boot("cisco", "0002fdff2103", "SPA-942"), (V{"spa942.cfg", "0002fdff2103.xml", "0002fdff2103.cfg"}));
  EXPECT_EQ(Boot("cisco", "00562b043615", "CP-8841-3PCC"),
            (V{"8841-3PCC.xml", "00562b043615.xml", "00562b043615.cfg"}));
  EXPECT_EQ(Boot("grandstream", "c074ad2bd859", "GXP2135"), (V{"cfgc074ad2bd859.xml"}));
  EXPECT_EQ(Boot("snom", "000413922d24", "D785"), (V{"snomD785.htm", "snomD785-000413922D24.htm"}));
  EXPECT_EQ(Boot("fanvil", "0c383e07e16c", "X4"), (V{"f0X4hw1.100.cfg", "0c383e07e16c.cfg"}));
  // wazo serie_x COMMON_FILES: F0V00X200000.cfg is X210's file, X2 has its own.
  EXPECT_EQ(Boot("fanvil", "0c383e07e16c", "X2"), (V{"f0X2hw1.100.cfg", "0c383e07e16c.cfg"}));
  EXPECT_EQ(Boot("fanvil", "0c383e07e16c", "X210"), (V{"F0V00X200000.cfg", "0c383e07e16c.cfg"}));
  EXPECT_EQ(Boot("gigaset", "7c2f80e0d605", "N870"), (V{"7C2F80E0D605.xml"}));
  EXPECT_EQ(Boot("htek", "001fc11c22a9", "UC926"), (V{"cfg0010.xml", "cfg001fc11c22a9.xml"}));
  EXPECT_EQ(Boot("htek", "001fc11c22a9", "UC903"), (V{"cfg0016.xml", "cfg001fc11c22a9.xml"}));
  EXPECT_EQ(Boot("htek", "001fc11c22a9", "uc912g"), (V{"cfg0019.xml", "cfg001fc11c22a9.xml"}));
}

TEST(BootFiles, UnknownModelsKeepTheirDeviceFiles) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Boot("yealink", "001565aabbcc", "T99X"), (V{"001565aabbcc.boot", "y000000000000.cfg", "001565aabbcc.cfg"}));
  EXPECT_EQ(Boot("fanvil", "0c383e07e16c", "Z9"), (V{"0c383e07e16c.cfg"}));
  EXPECT_EQ(Boot("htek", "001fc11c22a9", "UC840"), (V{"cfg001fc11c22a9.xml"}));
  EXPECT_EQ(Boot("cisco", "0002fdff2103", "ATA191"), (V{"0002fdff2103.xml", "0002fdff2103.cfg"}));
  EXPECT_EQ(Boot("grandstream", "c074ad2bd859", "GXP-2135/../x"), (V{"cfgc074ad2bd859.xml"}));
  // Snom spells the model into the device file name: no routable name, no files.
  EXPECT_TRUE(Boot("snom", "000413922d24", "D7/85").empty());
}

// For every vendor and a spread of models (known, odd, hostile), each listed name routes and
// each device route belongs to the given MAC.
TEST(BootFiles, EveryNameRoutesAndDeviceFilesCarryTheMac) {
  const char* models[] = {"T54W",    "T46U",  "W70B",   "VVX_450", "SPA504G", "SPA112", "CP-8841-3PCC",
                          "GXP2135", "HT801", "D785",   "D345",    "X4",      "X7C",    "V67",
                          "N870",    "UC926", "UC912G", "",        "unknown", "../etc", "SIP-T57W"};
  const char* macs[] = {"001565aabbcc", "0004f2a1b2c3", "7c2f80e0d605", "ffffffffff01"};
  for (const auto& name : Vendors().Names()) {
    const Vendor* v = Vendors().Find(name);
    bool any_device_file = false;
    for (const char* mac_text : macs) {
      const core::MacAddress mac = Mac(mac_text);
      for (const char* model : models) {
        for (const std::string& file : v->BootFiles(mac, model)) {
          auto route = v->Route(file);
          ASSERT_TRUE(route) << name << " " << model << " " << file;
          if (route->scope == FileScope::kDevice) {
            any_device_file = true;
            ASSERT_TRUE(route->mac) << name << " " << file;
            EXPECT_EQ(*route->mac, mac) << name << " " << file;
          } else {
            EXPECT_FALSE(route->mac) << name << " " << file;
          }
        }
      }
    }
    EXPECT_TRUE(any_device_file) << name << " lists no device file for any model";
  }
}

}  // namespace
}  // namespace provgate::vendors
