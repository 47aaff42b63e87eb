#include "vendors/fanvil/fanvil.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "vendors/testing/route_check.hpp"

namespace provgate::vendors {
namespace {

const std::unique_ptr<Vendor> kFanvil = MakeFanvilVendor();

TEST(Fanvil, RoutesCommonThenMacFile) {
  testing::ExpectSequence(*kFanvil, {{"f0C00580000.cfg", FileScope::kCommon, "common.cfg", "", "f0C00580000"},
                                     {"F0V00X200000.cfg", FileScope::kCommon, "common.cfg", "", "F0V00X200000"},
                                     {"f0X2hw1.100.cfg", FileScope::kCommon, "common.cfg", "", "f0X2hw1.100"},
                                     {"0c383e07e16c.cfg", FileScope::kDevice, "mac.cfg", "0c383e07e16c", ""}});
}

TEST(Fanvil, RefusesEverythingElse) {
  auto names = testing::HostileNames();
  for (const char* n : {"0C383E07E16C.cfg", "0c383e07e16c.xml", "f0.cfg", "f0..cfg", "f0a..b.cfg", "x0C00580000.cfg",
                        "f0C0058-0000.cfg", "fanvil_x210_v2_hwv2_0.txt", "f0C00580000f0C00580000000.cfg"}) {
    names.emplace_back(n);
  }
  testing::ExpectNotRouted(*kFanvil, names);
}

TEST(Fanvil, ParsesUserAgents) {
  const Vendor* v = kFanvil.get();
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

}  // namespace
}  // namespace provgate::vendors
