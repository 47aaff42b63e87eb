#include "vendors/vendor.hpp"

#include <gtest/gtest.h>

namespace provgate::vendors {
namespace {

TEST(Registry, BuiltinVendorsAreFoundByName) {
  const Registry r = BuiltinVendors();
  EXPECT_EQ(r.Names(), (std::vector<std::string>{"yealink", "polycom", "cisco", "grandstream", "snom",
                                                "fanvil", "gigaset", "htek"}));
  ASSERT_NE(r.Find("yealink"), nullptr);
  EXPECT_EQ(r.Find("yealink")->name(), "yealink");
  ASSERT_NE(r.Find("polycom"), nullptr);
  EXPECT_EQ(r.Find("polycom")->name(), "polycom");
  EXPECT_EQ(r.Find("Yealink"), nullptr);
  EXPECT_EQ(r.Find(""), nullptr);
  EXPECT_EQ(r.Find("Htek"), nullptr);
  EXPECT_EQ(r.Find("aastra"), nullptr);
}

TEST(Registry, VendorsDoNotClaimEachOthersFiles) {
  const Registry r = BuiltinVendors();
  EXPECT_FALSE(r.Find("polycom")->Route("y000000000096.cfg"));
  EXPECT_FALSE(r.Find("polycom")->Route("001565aabbcc.boot"));
  EXPECT_FALSE(r.Find("yealink")->Route("0004f2aabbcc-user.cfg"));
  EXPECT_FALSE(r.Find("yealink")->Route("common.cfg"));
}

}  // namespace
}  // namespace provgate::vendors
