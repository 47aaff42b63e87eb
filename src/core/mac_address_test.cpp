#include "core/mac_address.hpp"

#include <gtest/gtest.h>

namespace provgate::core {
namespace {

TEST(MacAddress, AcceptsEveryCommonSpelling) {
  for (const char* s : {"001565aabbcc", "001565AABBCC", "00:15:65:aa:bb:cc", "00-15-65-AA-BB-CC", "0015.65aa.bbcc"}) {
    auto mac = MacAddress::Parse(s);
    ASSERT_TRUE(mac) << s;
    EXPECT_EQ(mac->str(), "001565aabbcc") << s;
  }
}

TEST(MacAddress, RejectsMalformedInput) {
  for (const char* s : {"", "001565aabbc", "001565aabbccd", "00:15:65-aa:bb:cc", "00:15:65:aa:bb:cg", "0015:65aa:bbcc",
                        "00:1565:aa:bb:cc", "../../etc/pa", "00 15 65 aa bb cc", "001565aabbc\n", "0x1565aabbcc"}) {
    EXPECT_FALSE(MacAddress::Parse(s)) << s;
  }
}

TEST(MacAddress, FormatsUpperAndColons) {
  auto mac = MacAddress::Parse("001565aabbcc").value();
  EXPECT_EQ(mac.Upper(), "001565AABBCC");
  EXPECT_EQ(mac.WithColons(), "00:15:65:aa:bb:cc");
}

}  // namespace
}  // namespace provgate::core
