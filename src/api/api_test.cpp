#include "api/api.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace provgate::api {
namespace {

nlohmann::json Document() {
  std::ifstream in(PROVGATE_SOURCE_DIR "/api/openapi.json");
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// A route missing from either side fails: the document describes exactly what is served.
TEST(OpenApi, DocumentsExactlyTheRoutesServed) {
  const auto doc = Document();
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [key, value] : item.items()) {
      if (key == "parameters") continue;
      documented.emplace(Upper(key), path);
    }
  }
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& r : Api::Routes()) served.emplace(r.method, r.path);
  for (const auto& s : served)
    EXPECT_TRUE(documented.contains(s)) << "undocumented route " << s.first << " " << s.second;
  for (const auto& d : documented)
    EXPECT_TRUE(served.contains(d)) << "documented but not served " << d.first << " " << d.second;
}

TEST(OpenApi, DocumentsEachRoutesPermission) {
  const auto doc = Document();
  for (const auto& r : Api::Routes()) {
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto& op = doc.at("paths").at(r.path).at(method);
    EXPECT_EQ(op.at("x-provgate-permission").get<std::string>(), PermissionName(r.permission)) << r.path;
  }
}

TEST(OpenApi, ServedDocumentIsTheFileInTheRepository) {
  EXPECT_EQ(nlohmann::json::parse(Api::OpenApiDocument()), Document());
}

TEST(RoleAllows, SupportReadsAndReactivatesButNeverWrites) {
  using service::Role;
  EXPECT_TRUE(RoleAllows(Role::kSupport, Permission::kRead));
  EXPECT_TRUE(RoleAllows(Role::kSupport, Permission::kSupport));
  EXPECT_FALSE(RoleAllows(Role::kSupport, Permission::kDeviceWrite));
  EXPECT_FALSE(RoleAllows(Role::kSupport, Permission::kAuditRead));
}

TEST(RoleAllows, AuditorOnlyReadsTheAudit) {
  using service::Role;
  EXPECT_TRUE(RoleAllows(Role::kAuditor, Permission::kAuditRead));
  for (auto p : {Permission::kRead, Permission::kDeviceWrite, Permission::kSupport, Permission::kPlatform}) {
    EXPECT_FALSE(RoleAllows(Role::kAuditor, p)) << PermissionName(p);
  }
}

TEST(RoleAllows, OnlyAdminActsOnThePlatform) {
  using service::Role;
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Permission::kPlatform));
  for (auto r : {Role::kTenantAdmin, Role::kSupport, Role::kAuditor})
    EXPECT_FALSE(RoleAllows(r, Permission::kPlatform));
}

TEST(Routes, NoGetRouteNeedsAWritePermission) {
  for (const auto& r : Api::Routes()) {
    if (r.method != "GET") continue;
    EXPECT_TRUE(r.permission != Permission::kDeviceWrite && r.permission != Permission::kSupport) << r.path;
  }
}

}  // namespace
}  // namespace provgate::api
