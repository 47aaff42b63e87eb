#include <algorithm>
#include <cassert>

#include "vendors/cisco/cisco.hpp"
#include "vendors/fanvil/fanvil.hpp"
#include "vendors/gigaset/gigaset.hpp"
#include "vendors/grandstream/grandstream.hpp"
#include "vendors/htek/htek.hpp"
#include "vendors/polycom/polycom.hpp"
#include "vendors/snom/snom.hpp"
#include "vendors/vendor.hpp"
#include "vendors/yealink/yealink.hpp"

namespace provgate::vendors {

void Registry::Add(std::unique_ptr<Vendor> v) {
  // Two modules claiming one name is a build mistake, not a runtime condition.
  assert(v != nullptr && Find(v->name()) == nullptr);
  vendors_.push_back(std::move(v));
}

const Vendor* Registry::Find(std::string_view name) const {
  auto it = std::find_if(vendors_.begin(), vendors_.end(), [name](const auto& v) { return v->name() == name; });
  return it == vendors_.end() ? nullptr : it->get();
}

std::vector<std::string> Registry::Names() const {
  std::vector<std::string> names;
  names.reserve(vendors_.size());
  for (const auto& v : vendors_) names.emplace_back(v->name());
  return names;
}

Registry BuiltinVendors() {
  Registry r;
  r.Add(MakeYealinkVendor());
  r.Add(MakePolycomVendor());
  r.Add(MakeCiscoVendor());
  r.Add(MakeGrandstreamVendor());
  r.Add(MakeSnomVendor());
  r.Add(MakeFanvilVendor());
  r.Add(MakeGigasetVendor());
  r.Add(MakeHtekVendor());
  return r;
}

}  // namespace provgate::vendors
