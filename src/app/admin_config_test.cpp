#include "app/admin_config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "app/config.hpp"

namespace provgate::app {
namespace {

Result<Config> Load(const std::string& name, const std::string& admin) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("admin_cfg_" + name);
  std::filesystem::create_directories(dir);
  auto p = dir / "provgate.toml";
  std::ofstream(p) << "[[listener]]\nport = 8443\ncert = \"s.crt\"\nkey = \"s.key\"\nclient_cert = \"off\"\n" << admin;
  return LoadConfig(p);
}

constexpr const char* kAdmin = "[[admin]]\nport = 9443\ncert = \"a.crt\"\nkey = \"a.key\"\n";

TEST(AdminConfig, NoTableMeansNoAdminPlane) {
  auto c = Load("none", "");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->admin.empty());
}

TEST(AdminConfig, DefaultsToLoopbackWithBoundedBodies) {
  auto c = Load("defaults", kAdmin);
  ASSERT_TRUE(c) << c.error().message;
  const auto& a = c->admin.at(0);
  EXPECT_EQ(a.bind, "127.0.0.1");
  EXPECT_EQ(a.api.max_json_bytes, 1u << 20);
  EXPECT_TRUE(a.api.cors_origins.empty());
  EXPECT_EQ(a.tls.client_cert, tls::ClientCertMode::kOff);
}

TEST(AdminConfig, RefusesUnknownKeysNamingThem) {
  auto c = Load("unknown", std::string(kAdmin) + "trust_forwarded_user = true\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("admin[0].trust_forwarded_user"), std::string::npos);
}

TEST(AdminConfig, RefusesADevicePort) {
  auto c = Load("clash", "[[admin]]\nport = 8443\ncert = \"a.crt\"\nkey = \"a.key\"\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("never shares a port"), std::string::npos);
}

TEST(AdminConfig, RefusesWildcardCorsAndPlainHttp) {
  EXPECT_FALSE(Load("cors", std::string(kAdmin) + "cors_origins = [\"*\"]\n"));
  EXPECT_FALSE(Load("plain", "[[admin]]\nport = 9443\n"));
  EXPECT_TRUE(Load("cors_ok", std::string(kAdmin) + "cors_origins = [\"https://portal.example:8443\"]\n"));
}

TEST(AdminConfig, PortalSignInThrottleDefaultsAndKnobs) {
  auto d = Load("sign_in_defaults", kAdmin);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->admin.at(0).sign_in_failures.max_failures, 5);
  EXPECT_EQ(d->admin.at(0).sign_in_failures.window_seconds, 300);
  EXPECT_EQ(d->admin.at(0).sign_in_failures.block_seconds, 900);
  auto c = Load("sign_in", std::string(kAdmin) +
                               "sign_in_max_failures = 50\nsign_in_window_seconds = 60\nsign_in_block_seconds = 120\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->admin.at(0).sign_in_failures.max_failures, 50);
  EXPECT_EQ(c->admin.at(0).sign_in_failures.window_seconds, 60);
  EXPECT_EQ(c->admin.at(0).sign_in_failures.block_seconds, 120);
  EXPECT_FALSE(Load("sign_in_zero", std::string(kAdmin) + "sign_in_max_failures = 0\n"));
}

TEST(AdminConfig, OperatorCertificatesNeedTheirCa) {
  EXPECT_FALSE(Load("mtls", std::string(kAdmin) + "client_cert = \"required\"\n"));
}

}  // namespace
}  // namespace provgate::app
