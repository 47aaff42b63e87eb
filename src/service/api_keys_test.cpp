#include "service/api_keys.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "store/sqlite/operator_store.hpp"
#include "store/sqlite/test_support.hpp"

namespace provgate::service {
namespace {

class ApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    store_ = store::SqliteStore::Open(dir_.path() / "p.db", store::test_support::Box(), clock_).value();
    ops_ = store::SqliteOperatorStore::Open(dir_.path() / "p.db").value();
    audit_ = audit::AuditLog::Open(dir_.path() / "audit.log", nullptr).value();
    core::Tenant t;
    t.name = "acme";
    ASSERT_TRUE(store_->AddTenant(t));
    keys_ = std::make_unique<ApiKeys>(*ops_, *store_, *audit_, clock_, "cli:test");
  }
  std::string AuditText() {
    std::ifstream in(dir_.path() / "audit.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  store::test_support::TempDir dir_;
  ManualClock clock_{FromUnix(1'700'000'000)};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<store::SqliteOperatorStore> ops_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<ApiKeys> keys_;
};

TEST_F(ApiKeysTest, NewKeyAuthenticatesAndIsStoredOnlyHashed) {
  auto k = keys_->Add("tenant-admin", "acme", 0, "portal");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->key.size(), kApiKeyLength);
  EXPECT_NE(k->record.hash, k->key);
  auto out = keys_->Authenticate(k->key);
  ASSERT_TRUE(out.principal);
  EXPECT_EQ(out.principal->role, Role::kTenantAdmin);
  EXPECT_EQ(out.principal->tenant->name, "acme");
  EXPECT_EQ(out.principal->actor(), "api:" + k->record.prefix);
  EXPECT_EQ(AuditText().find(k->key.substr(13)), std::string::npos);
}

TEST_F(ApiKeysTest, WrongSecretUnknownPrefixAndMalformedAreRefused) {
  auto k = keys_->Add("admin", "", 0, "").value();
  std::string wrong = k.key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(keys_->Authenticate(wrong).failure, AuthFailure::kWrongSecret);
  std::string unknown = k.key;
  unknown[4] = unknown[4] == 'a' ? 'b' : 'a';
  EXPECT_EQ(keys_->Authenticate(unknown).failure, AuthFailure::kUnknownKey);
  EXPECT_EQ(keys_->Authenticate("pgk_short").failure, AuthFailure::kMalformed);
  EXPECT_EQ(keys_->Authenticate(k.key + "x").failure, AuthFailure::kMalformed);
  EXPECT_FALSE(keys_->Authenticate(std::string(k.key).replace(12, 1, "-")).principal);
}

TEST_F(ApiKeysTest, ExpiredAndRevokedKeysAreRefused) {
  auto k = keys_->Add("support", "", 1, "").value();
  clock_.Advance(std::chrono::hours(25));
  EXPECT_EQ(keys_->Authenticate(k.key).failure, AuthFailure::kExpired);
  auto r = keys_->Add("auditor", "acme", 0, "").value();
  ASSERT_TRUE(keys_->Revoke(r.record.prefix));
  EXPECT_EQ(keys_->Authenticate(r.key).failure, AuthFailure::kRevoked);
}

TEST_F(ApiKeysTest, RoleAndScopeMustFit) {
  EXPECT_FALSE(keys_->Add("admin", "acme", 0, ""));
  EXPECT_FALSE(keys_->Add("tenant-admin", "", 0, ""));
  EXPECT_FALSE(keys_->Add("root", "", 0, ""));
  EXPECT_EQ(keys_->Add("support", "nope", 0, "").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(keys_->Add("support", "", 4000, ""));
}

}  // namespace
}  // namespace provgate::service
