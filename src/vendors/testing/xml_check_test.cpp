#include "vendors/testing/xml_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace provgate::vendors::testing {
namespace {

// The golden tests trust this check: a document it passes must be well-formed.
TEST(XmlCheck, PassesAWellFormedDocumentWithItsSummary) {
  XmlSummary summary;
  EXPECT_EQ(CheckXml("<?xml version=\"1.0\"?><a x=\"1\"><b y=\"&lt;\"/></a>", summary), "");
  EXPECT_EQ(summary.elements, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(summary.attributes, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(summary.values["y"], "<");
}

TEST(XmlCheck, RefusesWhatIsNotWellFormed) {
  for (const char* bad : {"<a>", "<a></b>", "<a x=\"1\" x=\"1\"/>", "<a>&nbsp;</a>", "<!DOCTYPE a><a/>",
                          "<a><![CDATA[x]]></a>", "<a/>trailing"}) {
    XmlSummary summary;
    EXPECT_NE(CheckXml(bad, summary), "") << bad;
  }
}

}  // namespace
}  // namespace provgate::vendors::testing
