#include "vendors/snom/snom.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "vendors/testing/route_check.hpp"

namespace provgate::vendors {
namespace {

const std::unique_ptr<Vendor> kSnom = MakeSnomVendor();

TEST(Snom, RoutesModelThenMacFile) {
  testing::ExpectSequence(*kSnom, {{"snomD785.htm", FileScope::kCommon, "model.xml", "", "D785"},
                                   {"snomD785-000413922D24.htm", FileScope::kDevice, "mac.xml", "000413922d24", "D785"},
                                   {"snom320.htm", FileScope::kCommon, "model.xml", "", "320"}});
}

TEST(Snom, RefusesEverythingElse) {
  auto names = testing::HostileNames();
  for (const char* n : {"snomD785-000413922d24.htm", "snomD785-000413922D2.htm", "snom.htm", "snomD785.html",
                        "snomD785-.htm", "snom-000413922D24.htm", "SNOMD785.htm", "snomD7-85-000413922D24.htm",
                        "snomD785-000413922D24.xml", "snomD785D785D785.htm"}) {
    names.emplace_back(n);
  }
  testing::ExpectNotRouted(*kSnom, names);
}

TEST(Snom, ParsesUserAgents) {
  const Vendor* v = kSnom.get();
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

}  // namespace
}  // namespace provgate::vendors
