// Test helpers shared by the vendor modules' tests: a vendor's request sequence, the names it
// must refuse, and the hostile names every vendor must refuse.
#pragma once

#include <string>
#include <vector>

#include "vendors/vendor.hpp"

namespace provgate::vendors::testing {

// One expected XML route: the file requested and what it routes to.
struct Step {
  const char* file;
  FileScope scope;
  const char* tpl;
  const char* mac;  // "" for kCommon
  const char* model_hint;
};

// Each step routes as stated, as an application/xml file.
void ExpectSequence(const Vendor& vendor, const std::vector<Step>& steps);
// None of `names` routes.
void ExpectNotRouted(const Vendor& vendor, const std::vector<std::string>& names);
// Names every vendor must refuse: traversal, encodings, NUL, oversize, empty.
std::vector<std::string> HostileNames();

}  // namespace provgate::vendors::testing
