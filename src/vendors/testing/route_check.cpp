#include "vendors/testing/route_check.hpp"

#include <gtest/gtest.h>

namespace provgate::vendors::testing {

void ExpectSequence(const Vendor& vendor, const std::vector<Step>& steps) {
  for (const Step& s : steps) {
    auto r = vendor.Route(s.file);
    ASSERT_TRUE(r) << vendor.name() << " " << s.file;
    EXPECT_EQ(r->scope, s.scope) << s.file;
    EXPECT_EQ(r->template_name, s.tpl) << s.file;
    EXPECT_EQ(r->mac ? r->mac->str() : "", s.mac) << s.file;
    EXPECT_EQ(r->model_hint, s.model_hint) << s.file;
    EXPECT_EQ(r->format, render::Format::kXml) << s.file;
    EXPECT_EQ(r->content_type, "application/xml") << s.file;
  }
}

void ExpectNotRouted(const Vendor& vendor, const std::vector<std::string>& names) {
  for (const auto& n : names) EXPECT_FALSE(vendor.Route(n)) << vendor.name() << " " << n.substr(0, 40);
}

std::vector<std::string> HostileNames() {
  return {"",
          "..",
          "../cfg.xml",
          "%2e%2e%2fcfg.xml",
          std::string("cfg.xml\0", 8),
          "cfg.xml/",
          "..\\cfg.xml",
          std::string(4096, 'a'),
          "/etc/passwd",
          "000000000000.xml",
          "cfg000000000000.xml",
          "snomD785-000000000000.htm"};
}

}  // namespace provgate::vendors::testing
