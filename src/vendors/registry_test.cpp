#include "vendors/vendor.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace provgate::vendors {
namespace {

TEST(Registry, BuiltinVendorsAreFoundByName) {
  const Registry r = BuiltinVendors();
  EXPECT_EQ(r.Names(), (std::vector<std::string>{"yealink", "polycom", "cisco", "grandstream", "snom", "fanvil",
                                                 "gigaset", "htek"}));
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

const Registry& Vendors() {
  static const Registry r = BuiltinVendors();
  return r;
}

TEST(Registry, OnlyYealinkAndPolycomTakeUploads) {
  for (const char* vendor : {"cisco", "grandstream", "snom", "fanvil", "gigaset", "htek"}) {
    EXPECT_FALSE(Vendors().Find(vendor)->RouteUpload("0004f2aabbcc-phone.cfg")) << vendor;
  }
}

TEST(Registry, OnlyYealinkHasKeyFiles) {
  for (const char* vendor : {"polycom", "cisco", "grandstream", "snom", "fanvil", "gigaset", "htek"}) {
    EXPECT_FALSE(Vendors().Find(vendor)->RouteKeyFile("001565aabbcc_Security.enc")) << vendor;
  }
}

TEST(Registry, NoTwoVendorsClaimTheSameRequest) {
  // Every vendor's sample names are refused by every other vendor, so a device's vendor
  // alone decides what a name means.
  const std::vector<std::pair<std::string, std::string>> samples = {
      {"yealink", "001565aabbcc.boot"}, {"yealink", "y000000000096.cfg"}, {"polycom", "0004f2aabbcc-user.cfg"},
      {"cisco", "spa504g.cfg"},         {"cisco", "8841-3PCC.xml"},       {"grandstream", "cfgc074ad2bd859.xml"},
      {"grandstream", "cfg.xml"},       {"snom", "snomD785.htm"},         {"fanvil", "f0C00580000.cfg"},
      {"htek", "cfg0010.xml"}};
  for (const auto& [owner, name] : samples) {
    for (const auto& other : Vendors().Names()) {
      if (other == owner) continue;
      // The one documented overlap: Grandstream and Htek both call the device file
      // cfg<mac>.xml (docs/vendors/grandstream.md, docs/vendors/htek.md); checked below.
      if (owner == "grandstream" && other == "htek" && name == "cfgc074ad2bd859.xml") continue;
      EXPECT_FALSE(Vendors().Find(other)->Route(name)) << other << " claims " << name;
    }
  }
}

TEST(Registry, GrandstreamAndHtekReadTheSameMacFromTheirSharedDeviceFileName) {
  // Pipeline::MacNamedBy takes the first vendor's reading of a name; for the shared name both
  // readings must name the same device, so the answer does not depend on registry order.
  for (const char* name : {"cfgc074ad2bd859.xml", "cfg001fc11c22a9.xml"}) {
    auto gs = Vendors().Find("grandstream")->Route(name);
    auto htek = Vendors().Find("htek")->Route(name);
    ASSERT_TRUE(gs && htek) << name;
    EXPECT_EQ(gs->scope, FileScope::kDevice);
    EXPECT_EQ(htek->scope, FileScope::kDevice);
    EXPECT_EQ(gs->mac, htek->mac) << name;
  }
}

}  // namespace
}  // namespace provgate::vendors
