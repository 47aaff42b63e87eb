#include "pipeline/admit.hpp"

#include "pipeline/file_name.hpp"

namespace provgate::pipeline {

Step<Admitted> Admit(const DeviceRequest& request, std::string_view path_prefix) {
  Admitted admitted;
  if (request.method == "GET") {
    admitted.method = Method::kGet;
  } else if (request.method == "HEAD") {
    admitted.method = Method::kHead;
  } else if (request.method == "PUT") {
    admitted.method = Method::kPut;
  } else {
    return Refused{Refusal::kMethodNotAllowed, {}, Answer::kMethodNotAllowed};
  }
  if (request.target.starts_with("/p/")) {
    admitted.token = defense::ParseTokenPath(request.target);
    if (!admitted.token) return Refused{Refusal::kBadPath};
  } else if (const auto name = ExtractFileName(request.target, path_prefix)) {
    admitted.path_file = *name;
  } else {
    return Refused{Refusal::kBadPath};
  }
  return admitted;
}

}  // namespace provgate::pipeline
