#include "vendors/vendor_functions.hpp"

#include <cassert>

namespace provgate::vendors {
namespace {

class FunctionVendor final : public Vendor {
 public:
  explicit FunctionVendor(const VendorFunctions& f) : f_(f) {}

  std::string_view name() const override { return f_.name; }
  std::optional<FileRoute> Route(std::string_view file_name) const override { return f_.route(file_name); }
  UserAgentInfo ParseUserAgent(std::string_view user_agent) const override { return f_.parse_user_agent(user_agent); }
  std::optional<UploadRoute> RouteUpload(std::string_view file_name) const override {
    return f_.route_upload != nullptr ? f_.route_upload(file_name) : Vendor::RouteUpload(file_name);
  }
  std::optional<EncryptionScheme> Encryption(const FileRoute& route) const override {
    return f_.encryption != nullptr ? f_.encryption(route) : Vendor::Encryption(route);
  }
  std::optional<KeyFileRoute> RouteKeyFile(std::string_view file_name) const override {
    return f_.route_key_file != nullptr ? f_.route_key_file(file_name) : Vendor::RouteKeyFile(file_name);
  }
  std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) const override {
    return f_.boot_files(mac, model);
  }
  std::vector<std::string_view> WebAdminPasswordKeys() const override { return f_.web_admin_password_keys; }

 private:
  VendorFunctions f_;
};

}  // namespace

std::unique_ptr<Vendor> MakeVendor(const VendorFunctions& functions) {
  // A vendor module without its required functions is a build mistake.
  assert(!functions.name.empty() && functions.route != nullptr && functions.parse_user_agent != nullptr &&
         functions.boot_files != nullptr);
  return std::make_unique<FunctionVendor>(functions);
}

}  // namespace provgate::vendors
