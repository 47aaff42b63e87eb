// The serve stage and the authorize stage's locks, through the whole pipeline: uploads, key
// files, and the locks a certificate or a network change raises.
#include <gtest/gtest.h>

#include "encrypt/encrypt.hpp"
#include "pipeline/test_support.hpp"

namespace provgate::pipeline {
namespace {

using test_support::AuditLines;
namespace fs = std::filesystem;

class ServeTest : public test_support::PipelineTest {
 protected:
  DeviceRequest Put(const std::string& file, std::string body) {
    auto r = Request("/" + file, "001565aabbcc");
    r.method = "PUT";
    r.body = std::move(body);
    return r;
  }
  std::string ReadUpload(const std::string& file) {
    std::ifstream in(dir_ / "uploads" / "001565aabbcc" / file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

TEST_F(ServeTest, AnUploadIsStoredPrivatelyUnderTheDevicesOwnFolder) {
  const auto resp = pipeline_->Handle(Put("001565aabbcc-local.cfg", "#!version:1.0.0.1\nfeature.x = 1\n"));
  EXPECT_EQ(resp.status, 204);
  EXPECT_EQ(LastReason(), "upload stored");
  EXPECT_EQ(ReadUpload("001565aabbcc-local.cfg"), "#!version:1.0.0.1\nfeature.x = 1\n");
  const auto perms = fs::status(dir_ / "uploads" / "001565aabbcc" / "001565aabbcc-local.cfg").permissions();
  EXPECT_EQ(perms & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  const auto record = AuditLines(dir_ / "audit.log").back();
  EXPECT_EQ(record["detail"]["upload_kind"], "local-overrides");
}

TEST_F(ServeTest, UploadsOutsideTheirSlotAreRefusedAndStoreNothing) {
  struct Row {
    std::string file;
    size_t bytes;
    std::string reason;
  };
  const Row rows[] = {
      {"001565aabbcc-local.cfg", 256 * 1024 + 1, "upload too large"},
      {"001565aabbcc.cfg", 10, "upload not allowed"},  // a generated file is never overwritten
      {"001565ddeeff-local.cfg", 10, "mac mismatch"},  // another device's slot
  };
  for (const auto& row : rows) {
    const auto resp = pipeline_->Handle(Put(row.file, std::string(row.bytes, 'x')));
    EXPECT_EQ(resp.status, 404) << row.file;
    EXPECT_EQ(LastReason(), row.reason) << row.file;
  }
  EXPECT_FALSE(fs::exists(dir_ / "uploads" / "001565aabbcc"));
  EXPECT_FALSE(fs::exists(dir_ / "uploads" / "001565ddeeff"));
}

// What a phone uploads (its local settings, a web-UI export) may carry its passwords: never
// over plain HTTP, even where the tenant allows plain HTTP for its files.
TEST_F(ServeTest, UploadsAreRefusedOverPlainHttp) {
  tenant_.min_strength = core::IdentityStrength::kDigest;
  tenant_.allow_plain_http = true;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  auto r = DigestRequest("001565aabbcc", "/001565aabbcc-local.cfg", false, "PUT");
  r.body = "account.1.password = typed-on-the-phone\n";
  EXPECT_EQ(pipeline_->Handle(r).status, 404);
  EXPECT_EQ(LastReason(), "upload needs tls");
  EXPECT_FALSE(fs::exists(dir_ / "uploads" / "001565aabbcc"));
}

TEST_F(ServeTest, UploadsAreRefusedWhenNoFolderIsConfigured) {
  auto options = DefaultDefenseOptions();  // uploads_dir empty
  UseDefenses(options, *store_, PipelineOptions{});
  EXPECT_EQ(pipeline_->Handle(Put("001565aabbcc-local.cfg", "x")).status, 404);
  EXPECT_EQ(LastReason(), "uploads disabled");
}

TEST_F(ServeTest, AKeyFileCarriesTheDevicesKeyWrappedAndWaitsForTheDisk) {
  auto d = store_->FindDevice(a_.mac).value();
  d.config_key = encrypt::GenerateKey(vendors::Cipher::kYealinkAes128Ecb).value();
  ASSERT_TRUE(store_->UpdateDevice(d));
  const auto outcome = pipeline_->Evaluate(Request("/001565aabbcc_Security.enc", "001565aabbcc"));
  EXPECT_EQ(outcome.response.status, 200);
  EXPECT_EQ(outcome.response.content_type, "application/octet-stream");
  EXPECT_EQ(encrypt::UnwrapYealinkKey(outcome.response.body).value(), *d.config_key);
  EXPECT_EQ(outcome.record.reason, "key file");
  EXPECT_EQ(outcome.durability, audit::Durability::kDurable);
}

TEST_F(ServeTest, AKeyFileForADeviceWithoutAKeyIsAUniformNotFound) {
  const auto resp = pipeline_->Handle(Request("/001565aabbcc_Security.enc", "001565aabbcc"));
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(resp.body, UniformNotFound().body);
  EXPECT_EQ(LastReason(), "no config key");
}

TEST_F(ServeTest, ANewKeyForAPinnedCertificateLocksTheDevice) {
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 200);  // pins
  auto rekeyed = Request("/001565aabbcc.cfg", "001565aabbcc");
  rekeyed.cert->spki_sha256 = "another-key";
  EXPECT_EQ(pipeline_->Handle(rekeyed).status, 404);
  EXPECT_EQ(LastReason(), "certificate key changed");
  EXPECT_EQ(store_->FindDevice(a_.mac).value().locked_reason, "certificate key changed");
  // Locked now: even the pinned key gets nothing until an operator unlocks the device.
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 404);
  EXPECT_EQ(LastReason(), "device locked: certificate key changed");
}

TEST_F(ServeTest, AProvisionedPhoneThatMovesNetworkIsLockedWhereTheTenantSaysSo) {
  tenant_.anomaly_lock = true;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 200);
  audit_->Drain();  // the last-seen address reaches the store
  auto moved = Request("/001565aabbcc.cfg", "001565aabbcc");
  moved.peer = *net::IpAddress::Parse("198.51.100.9");
  EXPECT_EQ(pipeline_->Handle(moved).status, 404);
  EXPECT_EQ(LastReason(), "network changed");
  EXPECT_EQ(store_->FindDevice(a_.mac).value().locked_reason, "network changed");
}

TEST_F(ServeTest, AUserAgentNamingAnotherMacIsRefused) {
  auto r = Request("/001565aabbcc.cfg", "001565aabbcc");
  r.user_agent = "Yealink SIP-T54W 96.86.0.100 00:15:65:dd:ee:ff";
  EXPECT_EQ(pipeline_->Handle(r).status, 404);
  EXPECT_EQ(LastReason(), "user-agent mac mismatch");
}

TEST_F(ServeTest, ADeviceOfAVendorTheRegistryLacksGetsNothing) {
  auto d = store_->FindDevice(a_.mac).value();
  d.vendor = "acme-phones";
  ASSERT_TRUE(store_->UpdateDevice(d));
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 404);
  // The name means nothing without the device's vendor: refused before anything else.
  EXPECT_EQ(LastReason(), "unknown vendor: acme-phones");
}

}  // namespace
}  // namespace provgate::pipeline
