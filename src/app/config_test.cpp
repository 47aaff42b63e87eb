#include "app/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace provgate::app {
namespace {

std::filesystem::path WriteConfig(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("cfg_" + name);
  std::filesystem::create_directories(dir);
  auto p = dir / "provgate.toml";
  std::ofstream(p) << text;
  return p;
}

constexpr const char* kListener = R"(
[[listener]]
name = "devices"
bind = "127.0.0.1"
port = 9443
cert = "tls/server.crt"
key = "tls/server.key"
client_cert = "required"
trust_anchors = ["tls/ca.crt"]
header_timeout_ms = 2500
)";

TEST(Config, ResolvesPathsRelativeToTheConfigFile) {
  auto p = WriteConfig("paths", std::string("[store]\npath = \"db/p.db\"\n") + kListener);
  auto c = LoadConfig(p);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->db_path, p.parent_path() / "db/p.db");
  EXPECT_EQ(c->listeners.at(0).tls.cert_file, p.parent_path() / "tls/server.crt");
  EXPECT_EQ(c->listeners.at(0).port, 9443);
  EXPECT_EQ(c->listeners.at(0).limits.header_timeout.count(), 2500);
  EXPECT_FALSE(c->mac_rules.empty());  // defaults apply
  EXPECT_EQ(c->listeners.at(0).tls.session_cache, 1024);
  EXPECT_EQ(c->audit.commit_delay.count(), 5000);
  EXPECT_EQ(c->audit.store_copy_delay.count(), 100);
  EXPECT_EQ(c->cache_devices, 10000u);
}

std::string ListenerWith(const std::string& from, const std::string& to) {
  std::string s = kListener;
  s.replace(s.find(from), from.size(), to);
  return s;
}

TEST(Config, ListenerTakesASecondCertificateAndATlsProfile) {
  auto p = WriteConfig("two_certs", ListenerWith("header_timeout_ms = 2500",
                                                 "cert2 = \"tls/rsa.crt\"\nkey2 = \"tls/rsa.key\"\n"
                                                 "tls_profile = \"compatible\""));
  auto c = LoadConfig(p);
  ASSERT_TRUE(c) << c.error().message;
  const auto& listener = c->listeners.at(0).tls;
  ASSERT_EQ(listener.more_certs.size(), 1u);
  EXPECT_EQ(listener.more_certs[0].cert_file, p.parent_path() / "tls/rsa.crt");
  EXPECT_EQ(listener.more_certs[0].key_file, p.parent_path() / "tls/rsa.key");
  EXPECT_EQ(listener.profile, tls::TlsProfile::kCompatible);
}

TEST(Config, ListenerProfileIsModernUnlessSaidOtherwise) {
  auto c = LoadConfig(WriteConfig("default_profile", kListener));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listeners.at(0).tls.profile, tls::TlsProfile::kModern);
  EXPECT_TRUE(c->listeners.at(0).tls.more_certs.empty());
}

TEST(Config, RejectsBadValuesWithTheKeyName) {
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {"", "at least one [[listener]]"},
      {ListenerWith("\"required\"", "\"maybe\""), "client_cert"},
      {"[[listener]]\ncert=\"a\"\nkey=\"b\"\n", "trust_anchors"},
      {"[[listener]]\nkey=\"b\"\n", "'cert' and 'key'"},
      {ListenerWith("9443", "70000"), "port"},
      {std::string("[audit]\ncommit_delay_us = -1\n") + kListener, "audit.commit_delay_us"},
      {std::string("[audit]\nstore_copy_delay_ms = 60001\n") + kListener, "audit.store_copy_delay_ms"},
      {std::string("[store]\ncache_devices = -1\n") + kListener, "store.cache_devices"},
      {ListenerWith("header_timeout_ms = 2500", "session_cache = -1"), "session_cache"},
      {ListenerWith("header_timeout_ms = 2500", "tls_profile = \"legacy\""), "tls_profile"},
      {ListenerWith("header_timeout_ms = 2500", "cert2 = \"tls/rsa.crt\""), "'cert2' and 'key2'"},
      {std::string("[identity]\nmac_rules = [\"subject:NOPE\"]\n") + kListener, "identity.mac_rules"},
      {std::string("[server]\npath_prefix = \"cfg\"\n") + kListener, "path_prefix"},
      {"[[listener]\n", "provgate.toml:1"},
      // Unknown keys are errors naming the key, at every level.
      {std::string("[server]\nprovisioning_ulr = \"x\"\n") + kListener, "server.provisioning_ulr: unknown key"},
      {std::string("[defence]\n") + kListener, "defence: unknown key"},
      {ListenerWith("header_timeout_ms", "header_timout_ms"), "listener[0].header_timout_ms: unknown key"},
      {std::string("[defense]\nban_second = 5\n") + kListener, "defense.ban_second: unknown key"},
      {std::string("[defense]\ndigest_algorithms = [\"SHA-1\"]\n") + kListener, "defense.digest_algorithms"},
      {std::string("[defense]\ndigest_algorithms = []\n") + kListener, "defense.digest_algorithms"},
      {std::string("[defense]\nnonce_lifetime = 1\n") + kListener, "defense.nonce_lifetime"},
  };
  int i = 0;
  for (const auto& c : cases) {
    auto p = WriteConfig("bad" + std::to_string(i++), c.text);
    auto r = LoadConfig(p);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
}

TEST(Config, DigestAlgorithmsNonceAndRefusalBudgetAreRead) {
  auto p = WriteConfig("digest", std::string("[defense]\ndigest_algorithms = [\"SHA-256\"]\n"
                                             "nonce_lifetime = 120\nnonce_max_tracked = 50\n"
                                             "refusal_rate = 2.5\nrefusal_burst = 10\n") +
                                     kListener);
  auto c = LoadConfig(p);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->defense.digest_algorithms, std::vector{defense::DigestAlgorithm::kSha256});
  EXPECT_EQ(c->defense.nonces.lifetime.count(), 120);
  EXPECT_EQ(c->defense.nonces.max_tracked, 50u);
  EXPECT_EQ(c->defense.rate.classes.at("refusal").per_second, 2.5);
  EXPECT_EQ(c->defense.rate.classes.at("refusal").burst, 10.0);
  EXPECT_TRUE(c->defense.nonce_key_file.empty());
}

TEST(Config, NonceKeyFileIsResolvedBesideTheConfig) {
  auto p = WriteConfig("noncekey", std::string("[defense]\nnonce_key_file = \"keys/nonce.key\"\n") + kListener);
  auto c = LoadConfig(p);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->defense.nonce_key_file, p.parent_path() / "keys/nonce.key");
}

// No forwarding header is believed until the operator names one, and trusted proxies
// without a named header are an error rather than a silent change of who the client is.
TEST(Config, TrustedProxiesNeedTheirForwardingHeaderNamed) {
  auto p = WriteConfig("proxies", std::string("[defense]\ntrusted_proxies = [\"10.0.0.1\"]\n") + kListener);
  auto c = LoadConfig(p);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("defense.forwarded_header"), std::string::npos);
  p = WriteConfig("proxies2", std::string("[defense]\ntrusted_proxies = [\"10.0.0.1\"]\n"
                                          "forwarded_header = \"none\"\n") +
                                  kListener);
  c = LoadConfig(p);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->defense.trusted_proxies.header, net::ForwardedHeader::kNone);
}

// Over plain HTTP only digest authenticates: a listener that lists another method is refused
// with a message saying why, and one that lists none accepts digest.
TEST(Config, PlainHttpListenersAcceptOnlyDigest) {
  for (const std::string method : {"token", "ip", "client-cert"}) {
    auto c = LoadConfig(WriteConfig("plain-" + method,
                                    "[[listener]]\nplain_http = true\nmethods = [\"digest\", \"" + method + "\"]\n"));
    ASSERT_FALSE(c) << method;
    EXPECT_NE(c.error().message.find("accepts only [\"digest\"]"), std::string::npos) << c.error().message;
  }
  auto c = LoadConfig(WriteConfig("plain-default", "[[listener]]\nplain_http = true\n"));
  ASSERT_TRUE(c) << c.error().message;
  const auto& m = c->listeners.at(0).methods;
  EXPECT_TRUE(m.digest);
  EXPECT_FALSE(m.token || m.ip || m.client_cert);
}

TEST(Config, PlainHttpListenersKeepTheirLimits) {
  auto p = WriteConfig("plain",
                       "[[listener]]\nplain_http = true\nmethods = [\"digest\"]\n"
                       "max_body_bytes = 1000\nmax_header_bytes = 2048\n");
  auto c = LoadConfig(p);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listeners.at(0).limits.max_body_bytes, 1000u);
  EXPECT_EQ(c->listeners.at(0).limits.max_header_bytes, 2048u);
}

}  // namespace
}  // namespace provgate::app
