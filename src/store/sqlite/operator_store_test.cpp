#include "store/sqlite/operator_store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/sqlite/test_support.hpp"

namespace provgate::store {
namespace {

using test_support::Box;
using test_support::TempDir;

class OperatorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    auto s = SqliteStore::Open(dir_.path() / "p.db", Box(), clock_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auto o = SqliteOperatorStore::Open(dir_.path() / "p.db");
    ASSERT_TRUE(o) << o.error().message;
    ops_ = std::move(*o);
    for (const char* name : {"acme", "globex"}) {
      core::Tenant t;
      t.name = name;
      auto added = store_->AddTenant(t);
      ASSERT_TRUE(added);
      tenants_.push_back(added->id);
    }
  }
  core::Device Add(const char* mac, std::optional<std::int64_t> tenant, const char* vendor = "yealink") {
    core::Device d{.mac = core::MacAddress::Parse(mac).value()};
    d.vendor = vendor;
    d.model = "T54W";
    d.tenant_id = tenant;
    d.state = tenant ? core::DeviceState::kAssigned : core::DeviceState::kStock;
    if (tenant) d.window_expires = 2'000'000'000;
    return store_->AddDevice(d).value();
  }

  TempDir dir_;
  ManualClock clock_{FromUnix(1'700'000'000)};
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<SqliteOperatorStore> ops_;
  std::vector<std::int64_t> tenants_;
};

TEST_F(OperatorStoreTest, DeviceQueryCarriesTheTenantPredicate) {
  Add("001565000001", tenants_[0]);
  Add("001565000002", tenants_[1]);
  Add("001565000003", std::nullopt);
  DeviceQuery q;
  q.tenant_id = tenants_[0];
  auto rows = ops_->QueryDevices(q).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].device.mac.str(), "001565000001");
  EXPECT_FALSE(rows[0].device.config_key.has_value());
}

TEST_F(OperatorStoreTest, DeviceQueryPagesByMacCursor) {
  for (int i = 1; i <= 5; ++i) Add(fmt::format("00156500000{}", i).c_str(), tenants_[0]);
  DeviceQuery q;
  q.limit = 2;
  auto first = ops_->QueryDevices(q).value();
  ASSERT_EQ(first.size(), 2u);
  q.after_mac = first.back().device.mac.str();
  auto second = ops_->QueryDevices(q).value();
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].device.mac.str(), "001565000003");
}

TEST_F(OperatorStoreTest, DeviceQueryFiltersEffectiveStateVendorAndLock) {
  auto d = Add("001565000001", tenants_[0]);
  Add("0004f2000002", tenants_[0], "polycom");
  ASSERT_TRUE(store_->LockDevice(d.id, "network changed"));
  DeviceQuery q;
  q.locked = true;
  EXPECT_EQ(ops_->QueryDevices(q).value().size(), 1u);
  q = {};
  q.vendor = "polycom";
  EXPECT_EQ(ops_->QueryDevices(q).value().size(), 1u);
  q = {};
  q.state = core::DeviceState::kExpired;
  q.now = 2'000'000'001;  // past both windows
  EXPECT_EQ(ops_->QueryDevices(q).value().size(), 2u);
  q.now = 1'900'000'000;
  EXPECT_EQ(ops_->QueryDevices(q).value().size(), 0u);
}

TEST_F(OperatorStoreTest, RejectsLimitOutsideRange) {
  DeviceQuery q;
  q.limit = 0;
  EXPECT_FALSE(ops_->QueryDevices(q));
  AuditQuery a;
  a.limit = 1001;
  EXPECT_FALSE(ops_->QueryAudit(a));
}

TEST_F(OperatorStoreTest, AuditQueryScopesToRecordsWrittenForTheTenant) {
  Add("001565000001", tenants_[0]);
  Add("001565000002", tenants_[1]);
  auto event = [](const char* mac, std::optional<std::int64_t> tenant, const std::string& json) {
    StoredAuditEvent e;
    e.time = 1'700'000'000;
    e.kind = "admin";
    e.mac = mac;
    e.tenant_id = tenant;
    e.decision = "info";
    e.json = json;
    return e;
  };
  // 001565000001 belongs to tenants_[0] now; its first record was written while tenants_[1]
  // held it, and stays theirs.
  ASSERT_TRUE(store_->AppendAudit(event("001565000001", tenants_[1], R"({"actor":"cli:c"})")));
  ASSERT_TRUE(store_->AppendAudit(event("001565000001", tenants_[0], R"({"actor":"cli:a"})")));
  ASSERT_TRUE(store_->AppendAudit(event("001565000002", tenants_[1], R"({"actor":"cli:b"})")));
  ASSERT_TRUE(store_->AppendAudit(event("", tenants_[0], R"({"actor":"cli:a","detail":{"tenant":"acme"}})")));
  ASSERT_TRUE(store_->AppendAudit(event("", std::nullopt, R"({"actor":"cli:a"})")));
  AuditQuery q;
  q.tenant_id = tenants_[0];
  auto mine = ops_->QueryAudit(q).value();
  ASSERT_EQ(mine.size(), 2u);
  for (const auto& e : mine) EXPECT_EQ(e.tenant_id, tenants_[0]);
  q.mac = "001565000001";
  EXPECT_EQ(ops_->QueryAudit(q).value().size(), 1u);
  q = {};
  q.actor = "cli:b";
  EXPECT_EQ(ops_->QueryAudit(q).value().size(), 1u);
  q = {};
  q.limit = 1;
  auto page = ops_->QueryAudit(q).value();
  q.before_id = page.back().id;
  EXPECT_EQ(ops_->QueryAudit(q).value().size(), 1u);
}

TEST_F(OperatorStoreTest, ApiKeysRevokeOnlyWithinTheirTenant) {
  ApiKeyRecord k;
  k.prefix = "abcdefgh";
  k.hash = std::string(64, 'a');
  k.role = "tenant-admin";
  k.tenant_id = tenants_[0];
  ASSERT_TRUE(ops_->AddApiKey(k));
  EXPECT_EQ(ops_->AddApiKey(k).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(ops_->RevokeApiKey("abcdefgh", tenants_[1], 1).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(ops_->RevokeApiKey("abcdefgh", tenants_[0], 1));
  EXPECT_EQ(ops_->FindApiKey("abcdefgh").value().revoked_at, 1);
}

TEST_F(OperatorStoreTest, SchemaRefusesAnAdminKeyScopedToATenant) {
  ApiKeyRecord k;
  k.prefix = "abcdefgh";
  k.hash = std::string(64, 'a');
  k.role = "admin";
  k.tenant_id = tenants_[0];
  EXPECT_FALSE(ops_->AddApiKey(k));
}

}  // namespace
}  // namespace provgate::store
