// Route: what a file name means to the proven device's own vendor (a file to render, a key
// file, an upload slot, or nothing it knows), and which MAC the name carries in any vendor's
// naming.
#pragma once

#include <optional>
#include <string_view>

#include "core/mac_address.hpp"
#include "vendors/vendor.hpp"

namespace provgate::pipeline {

struct Target {
  std::optional<vendors::FileRoute> file;
  std::optional<vendors::KeyFileRoute> key_file;
  std::optional<vendors::UploadRoute> upload;
  // The MAC the name carries, if any: in the vendor's own naming, or in another vendor's.
  std::optional<core::MacAddress> mac;
};

// `upload`: the request is a PUT, which only an upload slot answers.
Target Route(const vendors::Registry& vendors, const vendors::Vendor& vendor, std::string_view file_name, bool upload);

// The MAC of a per-device file name in any vendor's naming, or nullopt.
std::optional<core::MacAddress> MacNamedBy(const vendors::Registry& vendors, std::string_view file_name);

}  // namespace provgate::pipeline
