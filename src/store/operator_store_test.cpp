// The operator store's queries on every backend: SQLite, and PostgreSQL when
// PROVGATE_TEST_PG_URL names a server (store/postgres/test_support.hpp).
#include "store/operator_store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/postgres/operator_store.hpp"
#include "store/postgres/test_support.hpp"
#include "store/sqlite/operator_store.hpp"
#include "store/sqlite/test_support.hpp"

namespace provgate::store {
namespace {

using test_support::Box;

struct SqliteBackend {
  static std::string SkipReason() { return ""; }
  Result<std::unique_ptr<Store>> OpenStore(const Clock& clock) {
    PG_TRY(auto s, SqliteStore::Open(dir.path() / "p.db", Box(), clock));
    return std::unique_ptr<Store>(std::move(s));
  }
  Result<std::unique_ptr<OperatorStore>> OpenOperatorStore() {
    PG_TRY(auto o, SqliteOperatorStore::Open(dir.path() / "p.db"));
    return std::unique_ptr<OperatorStore>(std::move(o));
  }
  test_support::TempDir dir;
};

struct PostgresBackend {
  static std::string SkipReason() { return test_support::PgScratchSchema::SkipReason(); }
  Result<std::unique_ptr<Store>> OpenStore(const Clock& clock) {
    PG_TRY(auto s, PostgresStore::Open(schema.url(), 2, Box(), clock));
    return std::unique_ptr<Store>(std::move(s));
  }
  Result<std::unique_ptr<OperatorStore>> OpenOperatorStore() {
    PG_TRY(auto o, PostgresOperatorStore::Open(schema.url(), 2));
    return std::unique_ptr<OperatorStore>(std::move(o));
  }
  test_support::PgScratchSchema schema;
};

template <class Backend>
class OperatorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = Backend::SkipReason(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(crypto::InitCrypto());
    auto s = backend_.OpenStore(clock_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auto o = backend_.OpenOperatorStore();
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

  Backend backend_;
  ManualClock clock_{FromUnix(1'700'000'000)};
  std::unique_ptr<Store> store_;
  std::unique_ptr<OperatorStore> ops_;
  std::vector<std::int64_t> tenants_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(OperatorStoreTest, Backends);

TYPED_TEST(OperatorStoreTest, DeviceQueryCarriesTheTenantPredicate) {
  this->Add("001565000001", this->tenants_[0]);
  this->Add("001565000002", this->tenants_[1]);
  this->Add("001565000003", std::nullopt);
  DeviceQuery q;
  q.tenant_id = this->tenants_[0];
  auto rows = this->ops_->QueryDevices(q).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].device.mac.str(), "001565000001");
  EXPECT_FALSE(rows[0].device.config_key.has_value());
}

TYPED_TEST(OperatorStoreTest, DeviceQueryPagesByMacCursor) {
  for (int i = 1; i <= 5; ++i) this->Add(fmt::format("00156500000{}", i).c_str(), this->tenants_[0]);
  DeviceQuery q;
  q.limit = 2;
  auto first = this->ops_->QueryDevices(q).value();
  ASSERT_EQ(first.size(), 2u);
  q.after_mac = first.back().device.mac.str();
  auto second = this->ops_->QueryDevices(q).value();
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].device.mac.str(), "001565000003");
}

TYPED_TEST(OperatorStoreTest, DeviceQueryFiltersEffectiveStateVendorAndLock) {
  auto d = this->Add("001565000001", this->tenants_[0]);
  this->Add("0004f2000002", this->tenants_[0], "polycom");
  ASSERT_TRUE(this->store_->LockDevice(d.id, "network changed"));
  DeviceQuery q;
  q.locked = true;
  EXPECT_EQ(this->ops_->QueryDevices(q).value().size(), 1u);
  q = {};
  q.vendor = "polycom";
  EXPECT_EQ(this->ops_->QueryDevices(q).value().size(), 1u);
  q = {};
  q.state = core::DeviceState::kExpired;
  q.now = 2'000'000'001;  // past both windows
  EXPECT_EQ(this->ops_->QueryDevices(q).value().size(), 2u);
  q.now = 1'900'000'000;
  EXPECT_EQ(this->ops_->QueryDevices(q).value().size(), 0u);
}

TYPED_TEST(OperatorStoreTest, RejectsLimitOutsideRange) {
  DeviceQuery q;
  q.limit = 0;
  EXPECT_FALSE(this->ops_->QueryDevices(q));
  AuditQuery a;
  a.limit = 1001;
  EXPECT_FALSE(this->ops_->QueryAudit(a));
}

TYPED_TEST(OperatorStoreTest, AuditQueryScopesToRecordsWrittenForTheTenant) {
  this->Add("001565000001", this->tenants_[0]);
  this->Add("001565000002", this->tenants_[1]);
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
  // 001565000001 belongs to this->tenants_[0] now; its first record was written while this->tenants_[1]
  // held it, and stays theirs.
  ASSERT_TRUE(this->store_->AppendAudit(event("001565000001", this->tenants_[1], R"({"actor":"cli:c"})")));
  ASSERT_TRUE(this->store_->AppendAudit(event("001565000001", this->tenants_[0], R"({"actor":"cli:a"})")));
  ASSERT_TRUE(this->store_->AppendAudit(event("001565000002", this->tenants_[1], R"({"actor":"cli:b"})")));
  ASSERT_TRUE(
      this->store_->AppendAudit(event("", this->tenants_[0], R"({"actor":"cli:a","detail":{"tenant":"acme"}})")));
  ASSERT_TRUE(this->store_->AppendAudit(event("", std::nullopt, R"({"actor":"cli:a"})")));
  AuditQuery q;
  q.tenant_id = this->tenants_[0];
  auto mine = this->ops_->QueryAudit(q).value();
  ASSERT_EQ(mine.size(), 2u);
  for (const auto& e : mine) EXPECT_EQ(e.tenant_id, this->tenants_[0]);
  q.mac = "001565000001";
  EXPECT_EQ(this->ops_->QueryAudit(q).value().size(), 1u);
  q = {};
  q.actor = "cli:b";
  EXPECT_EQ(this->ops_->QueryAudit(q).value().size(), 1u);
  q = {};
  q.limit = 1;
  auto page = this->ops_->QueryAudit(q).value();
  q.before_id = page.back().id;
  EXPECT_EQ(this->ops_->QueryAudit(q).value().size(), 1u);
}

TYPED_TEST(OperatorStoreTest, ApiKeysRevokeOnlyWithinTheirTenant) {
  ApiKeyRecord k;
  k.prefix = "abcdefgh";
  k.hash = std::string(64, 'a');
  k.role = "tenant-admin";
  k.tenant_id = this->tenants_[0];
  ASSERT_TRUE(this->ops_->AddApiKey(k));
  EXPECT_EQ(this->ops_->AddApiKey(k).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(this->ops_->RevokeApiKey("abcdefgh", this->tenants_[1], 1).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->ops_->RevokeApiKey("abcdefgh", this->tenants_[0], 1));
  EXPECT_EQ(this->ops_->FindApiKey("abcdefgh").value().revoked_at, 1);
}

TYPED_TEST(OperatorStoreTest, SchemaRefusesAnAdminKeyScopedToATenant) {
  ApiKeyRecord k;
  k.prefix = "abcdefgh";
  k.hash = std::string(64, 'a');
  k.role = "admin";
  k.tenant_id = this->tenants_[0];
  EXPECT_FALSE(this->ops_->AddApiKey(k));
}

}  // namespace
}  // namespace provgate::store
