#include "pipeline/route.hpp"

namespace provgate::pipeline {

Target Route(const vendors::Registry& vendors, const vendors::Vendor& vendor, std::string_view file_name, bool upload) {
  Target target;
  if (upload) {
    target.upload = vendor.RouteUpload(file_name);
    if (target.upload) target.mac = target.upload->mac;
  } else if ((target.key_file = vendor.RouteKeyFile(file_name))) {
    target.mac = target.key_file->mac;
  } else if ((target.file = vendor.Route(file_name))) {
    target.mac = target.file->mac;
  } else {
    target.mac = MacNamedBy(vendors, file_name);
  }
  return target;
}

std::optional<core::MacAddress> MacNamedBy(const vendors::Registry& vendors, std::string_view file_name) {
  for (const auto& name : vendors.Names()) {
    const vendors::Vendor* v = vendors.Find(name);
    if (auto route = v->Route(file_name); route && route->mac) return route->mac;
    if (auto up = v->RouteUpload(file_name)) return up->mac;
    if (auto key = v->RouteKeyFile(file_name)) return key->mac;
  }
  return std::nullopt;
}

}  // namespace provgate::pipeline
