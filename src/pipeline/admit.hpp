// Admit: what the request line asks for, decided before anything is looked up. A method
// other than GET, HEAD or PUT, or a target that is not one safe file name (under the
// listener's prefix, or after a URL token), is refused here.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "defense/tokens.hpp"
#include "pipeline/refusal.hpp"
#include "pipeline/request.hpp"

namespace provgate::pipeline {

enum class Method : std::uint8_t { kGet, kHead, kPut };

struct Admitted {
  Method method = Method::kGet;
  std::optional<defense::TokenPath> token;  // the target was a URL-token path
  std::string_view path_file;               // otherwise the file under the prefix (a view into the target)

  // The file the request asks for: a view into the request's target or into `token`.
  std::string_view file_name() const { return token ? std::string_view(token->file) : path_file; }
};

// `request` must outlive the result.
Step<Admitted> Admit(const DeviceRequest& request, std::string_view path_prefix);

}  // namespace provgate::pipeline
