// The portal's static files (a stylesheet and one script), built into the binary and
// served under /portal/static/ with the strict CSP: no inline script or style anywhere.
#pragma once

#include <optional>
#include <string_view>

namespace provgate::portal {

struct Asset {
  std::string_view content_type;
  std::string_view body;
};

// The asset named `name` ("portal.css", "portal.js"), or nothing.
std::optional<Asset> FindAsset(std::string_view name);

}  // namespace provgate::portal
