#include "vendors/cisco/cisco.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "vendors/testing/route_check.hpp"

namespace provgate::vendors {
namespace {

const std::unique_ptr<Vendor> kCisco = MakeCiscoVendor();

TEST(Cisco, RoutesSpaAndMppRequestSequences) {
  // SPA: default Profile_Rule /spa$PSN.cfg, then the chained Profile_Rule_B $MA.xml, then
  // the encrypted Profile_Rule_C $MA.cfg.
  testing::ExpectSequence(*kCisco, {{"spa504g.cfg", FileScope::kCommon, "model.xml", "", "504g"},
                                    {"spa112.cfg", FileScope::kCommon, "model.xml", "", "112"},
                                    {"0002fdff2103.xml", FileScope::kDevice, "mac.xml", "0002fdff2103", ""},
                                    {"0002fdff2103.cfg", FileScope::kDevice, "mac-secrets.xml", "0002fdff2103", ""}});
  // MPP: the model file, then $MA.xml; $(MAU) spells the MAC upper case.
  testing::ExpectSequence(*kCisco, {{"8841-3PCC.xml", FileScope::kCommon, "model.xml", "", "CP-8841-3PCC"},
                                    {"CP-7841-3PCC.xml", FileScope::kCommon, "model.xml", "", "CP-7841-3PCC"},
                                    {"00562B043615.xml", FileScope::kDevice, "mac.xml", "00562b043615", ""}});
}

TEST(Cisco, RefusesEverythingElse) {
  auto names = testing::HostileNames();
  for (const char* n : {"spa.cfg", "spaSPA504G.cfg", "spa504g.xml", "SPA504G.cfg", "spa-942.cfg", "8841-3pcc.xml",
                        "88410-3PCC.xml", "CP-8841.xml", "0002fdff2103.XML", "0002fdff210.xml", "0002fdff2103.cfg.xml",
                        "spa$PSN.cfg", "XMLDefault.cnf.xml", "SEP0002FDFF2103.cnf.xml"}) {
    names.emplace_back(n);
  }
  testing::ExpectNotRouted(*kCisco, names);
}

TEST(Cisco, ParsesUserAgents) {
  const Vendor* v = kCisco.get();
  auto spa = v->ParseUserAgent("Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)");
  EXPECT_EQ(spa.model, "SPA508G");
  EXPECT_EQ(spa.firmware, "7.4.8a");
  ASSERT_TRUE(spa.mac);
  EXPECT_EQ(spa.mac->str(), "0002fdff2103");

  auto serial_only = v->ParseUserAgent("Cisco/SPA525G-7.4.7 (CBT141900G7)");
  EXPECT_EQ(serial_only.model, "SPA525G");
  EXPECT_EQ(serial_only.firmware, "7.4.7");
  EXPECT_FALSE(serial_only.mac);

  auto linksys = v->ParseUserAgent("Linksys/SPA-942-6.1.5(a) (88019FA42805)");
  EXPECT_EQ(linksys.model, "SPA-942");
  EXPECT_EQ(linksys.firmware, "6.1.5(a)");
  EXPECT_FALSE(linksys.mac) << "a lone group is the serial";

  auto mpp = v->ParseUserAgent("Cisco-CP-8841-3PCC/11.0 (00562b043615)");
  EXPECT_EQ(mpp.model, "CP-8841-3PCC");
  EXPECT_EQ(mpp.firmware, "11.0");
  EXPECT_FALSE(mpp.mac) << "Cisco calls this value the serial";

  for (const char* ua : {"", "Cisco", "Cisco/", "Cisco/SPA508G", "Yealink SIP-T46G 28.72.0.1", "Cisco/SPA<508>-1.0",
                         "Cisco-CP-8841-3PCC"}) {
    EXPECT_TRUE(v->ParseUserAgent(ua).model.empty()) << ua;
  }
}

TEST(Cisco, EncryptsOnlyTheSecretsFileAndRequiresIt) {
  const Vendor* v = kCisco.get();
  auto scheme = v->Encryption(*v->Route("0002fdff2103.cfg"));
  ASSERT_TRUE(scheme);
  EXPECT_EQ(scheme->cipher, Cipher::kOpenSslAes256CbcMd5);
  EXPECT_EQ(scheme->delivery, KeyDelivery::kPlainBootstrapFile);
  EXPECT_EQ(scheme->key_variable, "config_key");
  EXPECT_TRUE(scheme->required);
  EXPECT_FALSE(v->Encryption(*v->Route("0002fdff2103.xml")));
  EXPECT_FALSE(v->Encryption(*v->Route("spa504g.cfg")));
}

}  // namespace
}  // namespace provgate::vendors
