#include "vendors/gigaset/gigaset.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "vendors/testing/route_check.hpp"

namespace provgate::vendors {
namespace {

const std::unique_ptr<Vendor> kGigaset = MakeGigasetVendor();

TEST(Gigaset, RoutesTheMacFileInEitherCase) {
  testing::ExpectSequence(*kGigaset, {{"7C2F80E0D605.xml", FileScope::kDevice, "mac.xml", "7c2f80e0d605", ""},
                                      {"7c2f80e0d605.xml", FileScope::kDevice, "mac.xml", "7c2f80e0d605", ""}});
  auto names = testing::HostileNames();
  for (const char* n : {"7C2F80e0d605.xml", "provisioning.xml", "master.bin", "7C2F80E0D605.XML", "7C2F80E0D605.cfg",
                        "7C:2F:80:E0:D6:05.xml"}) {
    names.emplace_back(n);
  }
  testing::ExpectNotRouted(*kGigaset, names);
}

TEST(Gigaset, ParsesUserAgents) {
  const Vendor* v = kGigaset.get();
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

}  // namespace
}  // namespace provgate::vendors
