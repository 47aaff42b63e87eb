#include "vendors/grandstream/grandstream.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "vendors/testing/route_check.hpp"

namespace provgate::vendors {
namespace {

const std::unique_ptr<Vendor> kGrandstream = MakeGrandstreamVendor();

TEST(Grandstream, RoutesTheBootSequence) {
  // cfg<mac> (binary) is requested first and not routed; then XML, model, common.
  EXPECT_FALSE(kGrandstream->Route("cfgc074ad2bd859"));
  testing::ExpectSequence(*kGrandstream, {{"cfgc074ad2bd859.xml", FileScope::kDevice, "mac.xml", "c074ad2bd859", ""},
                                          {"cfggxp1628.xml", FileScope::kCommon, "model.xml", "", "gxp1628"},
                                          {"cfght801.xml", FileScope::kCommon, "model.xml", "", "ht801"},
                                          {"cfg.xml", FileScope::kCommon, "common.xml", "", ""}});
}

TEST(Grandstream, RefusesEverythingElse) {
  auto names = testing::HostileNames();
  for (const char* n : {"cfgC074AD2BD859.xml", "cfgc074ad2bd859.bin", "cfg.XML", "cfgGXP1628.xml", "cfggxp.xml",
                        "cfg1628.xml", "cfg-gxp1628.xml", "cfgxml", "cfggxp1628gxp1628gxp.xml"}) {
    names.emplace_back(n);
  }
  testing::ExpectNotRouted(*kGrandstream, names);
}

TEST(Grandstream, ParsesUserAgents) {
  const Vendor* v = kGrandstream.get();
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
  const Vendor* v = kGrandstream.get();
  auto scheme = v->Encryption(*v->Route("cfgc074ad2bd859.xml"));
  ASSERT_TRUE(scheme);
  EXPECT_EQ(scheme->cipher, Cipher::kOpenSslAes256CbcMd5);
  EXPECT_EQ(scheme->delivery, KeyDelivery::kPriorPlainCopy);
  EXPECT_FALSE(scheme->required);
  EXPECT_FALSE(v->Encryption(*v->Route("cfg.xml")));
}

}  // namespace
}  // namespace provgate::vendors
