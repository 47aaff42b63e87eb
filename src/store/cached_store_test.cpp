#include "store/cached_store.hpp"
#include "store/cached_audit_store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <type_traits>

#include "store/sqlite/test_support.hpp"
#include "store/store_contract_test.hpp"

namespace provgate::store {
namespace {

using contract::kStartUnix;
using contract::Mac;
using contract::NewDevice;
using contract::NewLine;
using contract::NewTenant;
using test_support::Box;
using test_support::TempDir;

// The proven-read contract through the cache, with the audit copier's last-seen writes
// going through the cache as the server's do: the cache must answer exactly like its backend.
class CachedFactory {
 public:
  std::unique_ptr<Store> Create() { return sqlite_.Create(); }
  ManualClock& clock() { return sqlite_.clock(); }
  ProvenReads& ProvenOver(Store& backend) {
    reads_ = std::make_unique<CachedStore>(backend, cache_);
    return *reads_;
  }
  AuditSink& AuditOver(Store& backend) {
    audit_ = std::make_unique<CachedAuditStore>(backend, cache_);
    return *audit_;
  }

 private:
  test_support::SqliteFactory sqlite_;
  FleetCache cache_{100};
  std::unique_ptr<CachedStore> reads_;
  std::unique_ptr<CachedAuditStore> audit_;
};

}  // namespace
namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Cached, ProvenReadsContract, ::testing::Types<CachedFactory>);
}  // namespace contract
namespace {

// The cache is a proven-read role only: where a named lookup or a write is needed, passing
// it does not compile.
static_assert(std::is_convertible_v<CachedStore&, ProvenReads&>);
static_assert(!std::is_convertible_v<CachedStore&, NamedReads&>);
static_assert(!std::is_convertible_v<CachedStore&, DeviceWrites&>);
static_assert(!std::is_convertible_v<CachedStore&, Inventory&>);
static_assert(!std::is_convertible_v<CachedStore&, AuditSink&>);

class CachedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    server_ = Open();
    cli_ = Open();
    tenant_ = cli_->AddTenant(NewTenant("acme")).value();
    device_ = cli_->AddDevice(NewDevice("001565aabbcc", tenant_.id, core::DeviceState::kProvisioned)).value();
    ASSERT_TRUE(cli_->SetLine(NewLine(device_.id, 1, std::nullopt)));
  }
  std::unique_ptr<SqliteStore> Open() {
    auto s = SqliteStore::Open(dir_.path() / "provgate.db", Box(), clock_);
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  // One request's reads, as the pipeline does them.
  void ReadAll(ProvenReads& s) {
    ASSERT_TRUE(s.FindProvenDevice(device_.mac));
    ASSERT_TRUE(s.GetTenantShared(tenant_.id));
    ASSERT_TRUE(s.ListLines(device_.id));
  }

  TempDir dir_;
  ManualClock clock_{FromUnix(kStartUnix)};
  ManualSteadyClock steady_;             // the caches' ages: entries expire only when a test says so
  std::unique_ptr<SqliteStore> server_;  // the serving threads' connection
  std::unique_ptr<SqliteStore> cli_;     // another process's connection to the same file
  core::Tenant tenant_;
  core::Device device_ = NewDevice("001565aabbcc");
};

TEST_F(CachedStoreTest, RepeatedReadsAreAnsweredFromMemory) {
  FleetCache cache(100, kCacheMaxAge, steady_);
  CachedStore cached(*server_, cache);
  ReadAll(cached);
  EXPECT_EQ(cache.stats().misses, 3u);
  EXPECT_EQ(cache.stats().hits, 0u);
  for (int i = 0; i < 5; ++i) ReadAll(cached);
  EXPECT_EQ(cache.stats().misses, 3u);
  EXPECT_EQ(cache.stats().hits, 15u);
}

// The CLI writes through its own connection: the server's next read sees the write.
TEST_F(CachedStoreTest, AWriteByAnotherConnectionIsSeenAtOnce) {
  FleetCache cache(100, kCacheMaxAge, steady_);
  CachedStore cached(*server_, cache);
  ReadAll(cached);
  ReadAll(cached);
  ASSERT_TRUE(cli_->LockDevice(device_.id, "stolen"));
  EXPECT_EQ(cached.FindProvenDevice(device_.mac).value()->locked_reason, "stolen");
  auto tenant = tenant_;
  tenant.allow_plain_http = !tenant.allow_plain_http;
  ASSERT_TRUE(cli_->UpdateTenant(tenant));
  EXPECT_EQ(cached.GetTenantShared(tenant_.id).value()->allow_plain_http, tenant.allow_plain_http);
  ASSERT_TRUE(cli_->RemoveDevice(device_.mac));
  EXPECT_EQ(cached.FindProvenDevice(device_.mac).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(cached.ListLines(device_.id).value().empty());
}

TEST_F(CachedStoreTest, LinesWithAPasswordAreNeverKept) {
  ASSERT_TRUE(cli_->SetLine(NewLine(device_.id, 2, "sip-secret")));
  FleetCache cache(100, kCacheMaxAge, steady_);
  CachedStore cached(*server_, cache);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cached.ListLines(device_.id).value().at(1).password, "sip-secret");
  EXPECT_EQ(cache.stats().hits, 0u);
  EXPECT_FALSE(cache.FindLines(device_.id, server_->DataGeneration()));
}

TEST_F(CachedStoreTest, UnknownDevicesAreNotKept) {
  FleetCache cache(100, kCacheMaxAge, steady_);
  CachedStore cached(*server_, cache);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(cached.FindProvenDevice(Mac("001565000001")));
  EXPECT_EQ(cache.stats().misses, 3u);
}

// The audit copier writes last-seen on its own connection without changing the generation:
// the entries the serving threads read are updated. Replaced, not changed in place: a
// request may be reading the shared device at that moment.
TEST_F(CachedStoreTest, LastSeenWrittenByTheCopierReachesCachedDevices) {
  FleetCache cache(100, kCacheMaxAge, steady_);
  CachedStore serving(*server_, cache);
  CachedAuditStore copier(*cli_, cache);
  ReadAll(serving);
  const auto being_read = serving.FindProvenDevice(device_.mac).value();
  const auto last_seen_before = being_read->last_seen_ip;
  ASSERT_TRUE(copier.AppendAuditBatch({}, {{device_.id, kStartUnix + 9, "192.0.2.9", "ua-9", "9.1"}}, std::nullopt));
  const auto d = *serving.FindProvenDevice(device_.mac).value();
  EXPECT_EQ(d.last_seen_at, kStartUnix + 9);
  EXPECT_EQ(d.last_seen_ip, "192.0.2.9");
  EXPECT_EQ(d.last_user_agent, "ua-9");
  EXPECT_EQ(d.firmware, "9.1");
  EXPECT_EQ(cache.stats().hits, 2u);  // updated, not dropped
  EXPECT_EQ(being_read->last_seen_ip, last_seen_before);
  EXPECT_NE(serving.FindProvenDevice(device_.mac).value(), being_read);
}

// A request reads a cached device or tenant without a copy: every read shares one object.
TEST_F(CachedStoreTest, CachedReadsShareOneObject) {
  FleetCache cache(100, kCacheMaxAge, steady_);
  CachedStore serving(*server_, cache);
  const auto first = serving.FindProvenDevice(device_.mac).value();
  EXPECT_EQ(serving.FindProvenDevice(device_.mac).value(), first);
  const auto tenant = serving.GetTenantShared(tenant_.id).value();
  EXPECT_EQ(serving.GetTenantShared(tenant_.id).value(), tenant);
  // The store itself hands out a copy each time.
  EXPECT_NE(server_->FindProvenDevice(device_.mac).value(), server_->FindProvenDevice(device_.mac).value());
}

// A device read before a last-seen write and put after it would bring the old value back.
TEST_F(CachedStoreTest, AReadOlderThanALastSeenWriteIsNotKept) {
  FleetCache cache(100, kCacheMaxAge, steady_);
  const std::uint64_t generation = server_->DataGeneration();
  const std::uint64_t epoch = cache.SeenEpoch();
  const core::Device before = server_->FindDevice(device_.mac).value();
  cache.ApplySeen({{device_.id, kStartUnix + 9, "192.0.2.9", "ua-9", ""}});
  cache.PutDevice(std::make_shared<const core::Device>(before), generation, epoch);
  EXPECT_FALSE(cache.FindDevice(device_.mac.str(), generation));
  cache.PutDevice(std::make_shared<const core::Device>(before), generation, cache.SeenEpoch());
  EXPECT_TRUE(cache.FindDevice(device_.mac.str(), generation));
}

// Two reads racing to fill one entry: the one that read older data does not replace the other.
TEST_F(CachedStoreTest, AnOlderFillDoesNotReplaceANewerOne) {
  FleetCache cache(100, kCacheMaxAge, steady_);
  core::Device old_device = device_;
  core::Device new_device = device_;
  new_device.serial = "newer";
  cache.PutDevice(std::make_shared<const core::Device>(new_device), 7, cache.SeenEpoch());
  cache.PutDevice(std::make_shared<const core::Device>(old_device), 6, cache.SeenEpoch());
  EXPECT_EQ(cache.FindDevice(device_.mac.str(), 7)->serial, "newer");
  EXPECT_FALSE(cache.FindDevice(device_.mac.str(), 6));
}

TEST_F(CachedStoreTest, SizeIsBounded) {
  FleetCache cache(2, kCacheMaxAge, steady_);
  for (int i = 0; i < 5; ++i) {
    core::Device d = NewDevice(fmt::format("0015650000{:02x}", i));
    d.id = i + 1;
    cache.PutDevice(std::make_shared<const core::Device>(d), 1, cache.SeenEpoch());
  }
  int kept = 0;
  for (int i = 0; i < 5; ++i) kept += cache.FindDevice(fmt::format("0015650000{:02x}", i), 1) ? 1 : 0;
  EXPECT_LE(kept, 2);
  EXPECT_TRUE(cache.FindDevice("001565000004", 1));  // the newest is there

  FleetCache off(0, kCacheMaxAge, steady_);
  CachedStore cached(*server_, off);
  ReadAll(cached);
  ReadAll(cached);
  EXPECT_EQ(off.stats().hits, 0u);
}

// The backstop for changes made behind provgate's back: entries expire.
TEST_F(CachedStoreTest, EntriesExpire) {
  FleetCache cache(100, kCacheMaxAge, steady_);
  CachedStore cached(*server_, cache);
  ReadAll(cached);
  steady_.Advance(kCacheMaxAge - std::chrono::milliseconds(1));
  ReadAll(cached);
  EXPECT_EQ(cache.stats().hits, 3u);  // still young enough
  steady_.Advance(std::chrono::milliseconds(1));
  ReadAll(cached);
  EXPECT_EQ(cache.stats().hits, 3u);  // all three read again
  ReadAll(cached);
  EXPECT_EQ(cache.stats().hits, 6u);  // and kept again
}

// Opening the store (every CLI command does) changes nothing a server has cached.
TEST_F(CachedStoreTest, OpeningTheStoreLeavesTheGenerationAlone) {
  const std::uint64_t before = server_->DataGeneration();
  auto another = Open();
  ASSERT_NE(another, nullptr);
  EXPECT_EQ(server_->DataGeneration(), before);
}

TEST_F(CachedStoreTest, TheChangeCounterFileMustBeOwnerOnlyAndNoSymlink) {
  const auto db = dir_.path() / "provgate.db";
  const auto counter = SqliteStore::ChangeCounterPath(db);
  ASSERT_EQ(::chmod(counter.c_str(), 0644), 0);
  auto loose = SqliteStore::Open(db, Box(), clock_);
  ASSERT_FALSE(loose);
  EXPECT_NE(loose.error().message.find("group or others can access it"), std::string::npos) << loose.error().message;
  ASSERT_EQ(::chmod(counter.c_str(), 0600), 0);

  const auto elsewhere = dir_.path() / "elsewhere";
  std::filesystem::rename(counter, elsewhere);
  std::filesystem::create_symlink(elsewhere, counter);
  auto linked = SqliteStore::Open(db, Box(), clock_);
  ASSERT_FALSE(linked);
  EXPECT_NE(linked.error().message.find("it is a symbolic link"), std::string::npos) << linked.error().message;
  EXPECT_NE(linked.error().message.find(counter.string()), std::string::npos) << linked.error().message;
}

// Two paths to one database (one through a symlink) share one counter, as they share the
// database: SQLite resolves the link, and the counter sits beside the file it opened.
TEST_F(CachedStoreTest, APathThroughASymlinkSharesTheCounter) {
  const auto link = dir_.path() / "link.db";
  std::filesystem::create_symlink(dir_.path() / "provgate.db", link);
  auto via_link = SqliteStore::Open(link, Box(), clock_);
  ASSERT_TRUE(via_link) << via_link.error().message;
  const std::uint64_t before = server_->DataGeneration();
  ASSERT_TRUE((*via_link)->LockDevice(device_.id, "x"));
  EXPECT_EQ(server_->DataGeneration(), before + 1);
}

TEST_F(CachedStoreTest, TheChangeCounterIsSharedThroughItsFile) {
  const auto path = SqliteStore::ChangeCounterPath(dir_.path() / "provgate.db");
  EXPECT_EQ(path.filename(), "provgate.db-changes");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::uint64_t before = server_->DataGeneration();
  ASSERT_TRUE(cli_->LockDevice(device_.id, "x"));
  EXPECT_EQ(server_->DataGeneration(), before + 1);
}

}  // namespace
}  // namespace provgate::store
