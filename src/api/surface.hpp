// A surface the admin listener serves beside the REST API under a path prefix of its own
// (the web portal under /portal): the same request and response values, the same limits
// and transport, its own authentication. Thread-safe.
#pragma once

#include <string_view>

#include "api/api.hpp"
#include "api/http_types.hpp"

namespace provgate::api {

class Surface {
 public:
  virtual ~Surface() = default;
  // Whether a request for `target` is this surface's (decided on the path alone).
  virtual bool Serves(std::string_view target) const = 0;
  // As Api::AdmitBody, for this surface's requests; never streamed.
  virtual BodyAdmission AdmitBody(const ApiRequest& head) = 0;
  virtual ApiResponse Handle(const ApiRequest& request) = 0;
};

}  // namespace provgate::api
