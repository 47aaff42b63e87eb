// Test fixture material shared by the TLS tests: a server CA and server certificate, the
// shared device CA, all written to a scratch directory as a listener would read them.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "tls/server_context.hpp"
#include "tls/testing/memory_handshake.hpp"
#include "tls/testing/test_pki.hpp"

namespace provgate::tls::testing {

constexpr const char* kServerHost = "provisioning.test";

inline const CertAuthority& SharedServerCa() {
  static const CertAuthority ca = CertAuthority::Create(CaSpec("Test Server CA")).value();
  return ca;
}

inline const PemPair& SharedServerPair() {
  static const PemPair pair = SharedServerCa().Issue(ServerSpec(kServerHost)).value();
  return pair;
}

class TlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_TRUE(SharedServerPair().WriteFiles(dir_ / "server.crt", dir_ / "server.key"));
    WriteText("devices.pem", SharedDeviceCa().pem().cert_pem);
  }

  void WriteText(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ / name, std::ios::binary | std::ios::trunc);
    out << text;
  }

  ServerTlsSettings Settings(ClientCertMode mode) const {
    ServerTlsSettings s;
    s.cert_file = dir_ / "server.crt";
    s.key_file = dir_ / "server.key";
    s.trust_anchors = {dir_ / "devices.pem"};
    s.client_cert = mode;
    return s;
  }

  std::shared_ptr<boost::asio::ssl::context> Server(ClientCertMode mode) const {
    auto ctx = MakeServerContext(Settings(mode));
    EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().message);
    return ctx ? *ctx : nullptr;
  }

  // A client that verifies the server and presents `device` when given.
  static SslCtxPtr Client(const PemPair* device, ClientOptions options = {}) {
    options.trust_pem = SharedServerCa().pem().cert_pem;
    options.verify_host = kServerHost;
    if (device != nullptr) {
      options.cert_pem = device->cert_pem;
      options.key_pem = device->key_pem;
    }
    auto ctx = MakeClientContext(options);
    EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().message);
    return ctx ? std::move(*ctx) : SslCtxPtr(nullptr);
  }

  TempDir dir_;
};

}  // namespace provgate::tls::testing
