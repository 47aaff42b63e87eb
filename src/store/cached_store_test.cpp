#include "store/cached_store.hpp"
#include "store/cached_audit_store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <type_traits>
#include <utility>

#include "store/change_log.hpp"
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

// A source that names what changed (as PostgreSQL does) and serves a fleet of its own.
class KeyedSource final : public ProvenReads {
 public:
  Result<std::shared_ptr<const core::Device>> FindProvenDevice(const core::MacAddress& mac) override {
    ++reads;
    for (const auto& d : fleet.devices) {
      if (d.mac == mac) return std::make_shared<const core::Device>(d);
    }
    return Error::NotFound("no such device");
  }
  Result<std::shared_ptr<const core::Tenant>> GetTenantShared(std::int64_t id) override {
    ++reads;
    core::Tenant t = NewTenant("acme");
    t.id = id;
    return std::make_shared<const core::Tenant>(t);
  }
  Result<std::vector<core::Line>> ListLines(std::int64_t device_id) override {
    ++reads;
    std::vector<core::Line> out;
    for (const auto& l : fleet.lines) {
      if (l.device_id == device_id) out.push_back(l);
    }
    return out;
  }
  std::uint64_t DataGeneration() override { return changes.Load(); }
  DataChanges ChangesSince(std::uint64_t generation) override { return changes.ChangesSince(generation); }
  std::optional<std::chrono::seconds> CacheMaxAge() override { return std::nullopt; }
  Result<FleetPage> ReadFleetPage(std::int64_t after_id, size_t limit) override {
    ++pages;
    FleetPage page;
    for (const auto& d : fleet.devices) {
      if (d.id > after_id && page.devices.size() < limit) page.devices.push_back(d);
    }
    for (const auto& l : fleet.lines) {
      if (!page.devices.empty() && l.device_id >= page.devices.front().id && l.device_id <= page.devices.back().id) {
        page.lines.push_back(l);
      }
    }
    return page;
  }

  Result<FleetPage> ReadFleetDevices(const std::vector<std::int64_t>& ids) override {
    ++pages;
    if (during_read) std::exchange(during_read, nullptr)();
    FleetPage page;
    for (const auto& d : fleet.devices) {
      if (std::find(ids.begin(), ids.end(), d.id) != ids.end()) page.devices.push_back(d);
    }
    for (const auto& l : fleet.lines) {
      if (std::find(ids.begin(), ids.end(), l.device_id) != ids.end()) page.lines.push_back(l);
    }
    return page;
  }

  // `n` devices with ids 1..n, MACs 0015650000xx, one line each; tenant 1.
  void AddFleet(int n) {
    for (int i = 1; i <= n; ++i) {
      core::Device d = NewDevice(fmt::format("0015650000{:02x}", i), 1, core::DeviceState::kProvisioned);
      d.id = i;
      fleet.devices.push_back(d);
      fleet.lines.push_back(NewLine(i, 1, std::nullopt));
    }
  }

  ChangeLog changes;
  FleetPage fleet;
  int reads = 0;
  int pages = 0;
  std::function<void()> during_read;  // runs once, inside the next ReadFleetDevices
};

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
  EXPECT_FALSE(cache.FindLines(*server_, device_.id));
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
  cache.PutDevice(*server_, std::make_shared<const core::Device>(before), generation, epoch);
  EXPECT_FALSE(cache.FindDevice(*server_, device_.mac.str()));
  cache.PutDevice(*server_, std::make_shared<const core::Device>(before), generation, cache.SeenEpoch());
  EXPECT_TRUE(cache.FindDevice(*server_, device_.mac.str()));
}

// Two reads racing to fill one entry: the one that read older data does not replace the other.
TEST_F(CachedStoreTest, AnOlderFillDoesNotReplaceANewerOne) {
  KeyedSource source;
  FleetCache cache(100, std::nullopt, steady_);
  core::Device old_device = device_;
  core::Device new_device = device_;
  new_device.serial = "newer";
  const std::uint64_t old_read = source.DataGeneration();
  source.changes.Record(ChangedKey::Device(device_.id));
  cache.PutDevice(source, std::make_shared<const core::Device>(new_device), source.DataGeneration(), cache.SeenEpoch());
  cache.PutDevice(source, std::make_shared<const core::Device>(old_device), old_read, cache.SeenEpoch());
  EXPECT_EQ(cache.FindDevice(source, device_.mac.str())->serial, "newer");
}

TEST_F(CachedStoreTest, SizeIsBounded) {
  KeyedSource source;
  FleetCache cache(2, kCacheMaxAge, steady_);
  for (int i = 0; i < 5; ++i) {
    core::Device d = NewDevice(fmt::format("0015650000{:02x}", i));
    d.id = i + 1;
    cache.PutDevice(source, std::make_shared<const core::Device>(d), 0, cache.SeenEpoch());
  }
  int kept = 0;
  for (int i = 0; i < 5; ++i) kept += cache.FindDevice(source, fmt::format("0015650000{:02x}", i)) ? 1 : 0;
  EXPECT_LE(kept, 2);
  EXPECT_TRUE(cache.FindDevice(source, "001565000004"));  // the newest is there

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

// Where the backend names what changed (PostgreSQL), a write drops only what it touched: a
// storm keeps every other device's entries while some devices' first fetches write.
TEST_F(CachedStoreTest, AChangeOfOneDeviceDropsOnlyThatDevice) {
  KeyedSource source;
  source.AddFleet(3);
  FleetCache cache(100, std::nullopt, steady_);
  CachedStore cached(source, cache);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(cached.FindProvenDevice(source.fleet.devices.at(static_cast<size_t>(i - 1)).mac));
    ASSERT_TRUE(cached.ListLines(i));
  }
  ASSERT_TRUE(cached.GetTenantShared(1));
  const int reads = source.reads;
  source.fleet.devices[1].locked_reason = "stolen";
  source.changes.Record(ChangedKey::Device(2));
  EXPECT_EQ(cached.FindProvenDevice(source.fleet.devices[1].mac).value()->locked_reason, "stolen");
  ASSERT_TRUE(cached.ListLines(2));
  EXPECT_EQ(source.reads, reads + 2);  // device 2 and its lines, read again
  ASSERT_TRUE(cached.FindProvenDevice(source.fleet.devices[0].mac));
  ASSERT_TRUE(cached.FindProvenDevice(source.fleet.devices[2].mac));
  ASSERT_TRUE(cached.ListLines(3));
  ASSERT_TRUE(cached.GetTenantShared(1));
  EXPECT_EQ(source.reads, reads + 2);  // the others are still held

  source.changes.Record(ChangedKey::Tenant(1));
  ASSERT_TRUE(cached.GetTenantShared(1));
  ASSERT_TRUE(cached.FindProvenDevice(source.fleet.devices[0].mac));
  EXPECT_EQ(source.reads, reads + 3);  // the tenant only

  source.changes.Record(std::nullopt);
  ASSERT_TRUE(cached.FindProvenDevice(source.fleet.devices[0].mac));
  EXPECT_EQ(source.reads, reads + 4);  // a change of anything drops everything
}

// A device whose MAC changed is no longer found under the old one.
TEST_F(CachedStoreTest, AChangedDeviceIsDroppedUnderItsOldMac) {
  KeyedSource source;
  source.AddFleet(1);
  FleetCache cache(100, std::nullopt, steady_);
  CachedStore cached(source, cache);
  const core::MacAddress old_mac = source.fleet.devices[0].mac;
  ASSERT_TRUE(cached.FindProvenDevice(old_mac));
  source.fleet.devices[0].mac = Mac("001565ffffff");
  source.changes.Record(ChangedKey::Device(1));
  EXPECT_EQ(cached.FindProvenDevice(old_mac).error().code, ErrorCode::kNotFound);
}

// A read that raced a write of the same device is not kept; one that raced another
// device's write is.
TEST_F(CachedStoreTest, AReadOlderThanAChangeOfItsKeyIsNotKept) {
  KeyedSource source;
  source.AddFleet(2);
  FleetCache cache(100, std::nullopt, steady_);
  const std::uint64_t before = source.DataGeneration();
  source.changes.Record(ChangedKey::Device(2));
  for (const auto& d : source.fleet.devices) {
    cache.PutDevice(source, std::make_shared<const core::Device>(d), before, cache.SeenEpoch());
  }
  cache.PutLines(source, 2, {}, before);
  cache.PutLines(source, 1, {}, before);
  EXPECT_TRUE(cache.FindDevice(source, source.fleet.devices[0].mac.str()));
  EXPECT_FALSE(cache.FindDevice(source, source.fleet.devices[1].mac.str()));
  EXPECT_TRUE(cache.FindLines(source, 1));
  EXPECT_FALSE(cache.FindLines(source, 2));
}

// Preloading fills the cache a page at a time, up to its size, with the devices' tenants
// and password-free lines: the requests that follow read nothing.
TEST_F(CachedStoreTest, PreloadReadsTheFleetAheadOfItsRequests) {
  KeyedSource source;
  source.AddFleet(5);
  source.fleet.lines[4].password = "sip-secret";  // device 5's
  FleetCache cache(100, std::nullopt, steady_);
  EXPECT_EQ(cache.Preload(source, 2).value(), 5u);
  EXPECT_EQ(source.pages, 4);  // 2 + 2 + 1, then an empty page
  const int reads = source.reads;
  CachedStore cached(source, cache);
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(cached.FindProvenDevice(source.fleet.devices.at(static_cast<size_t>(i - 1)).mac));
    ASSERT_TRUE(cached.ListLines(i));
  }
  ASSERT_TRUE(cached.GetTenantShared(1));
  EXPECT_EQ(source.reads, reads);
  ASSERT_TRUE(cached.ListLines(5));
  EXPECT_EQ(source.reads, reads + 1);  // a line with a password is never kept

  FleetCache small(3, std::nullopt, steady_);
  EXPECT_EQ(small.Preload(source, 2).value(), 3u);
  EXPECT_FALSE(small.FindDevice(source, source.fleet.devices[3].mac.str()));
  EXPECT_TRUE(small.FindDevice(source, source.fleet.devices[2].mac.str()));
}

// A device read under a new MAC before the change that moved it was heard of: the entry
// under the old MAC goes, or a phone presenting the old MAC would pass as the device for as
// long as the cache keeps it.
TEST_F(CachedStoreTest, ADeviceReadUnderANewMacLeavesNoEntryUnderTheOldOne) {
  KeyedSource source;
  FleetCache cache(100, std::nullopt, steady_);
  core::Device d = NewDevice("001565000001");
  d.id = 5;
  cache.PutDevice(source, std::make_shared<const core::Device>(d), source.DataGeneration(), cache.SeenEpoch());
  d.mac = Mac("001565000002");
  cache.PutDevice(source, std::make_shared<const core::Device>(d), source.DataGeneration(), cache.SeenEpoch());
  EXPECT_FALSE(cache.FindDevice(source, "001565000001"));
  source.changes.Record(ChangedKey::Device(5));
  EXPECT_FALSE(cache.FindDevice(source, "001565000001"));
  EXPECT_FALSE(cache.FindDevice(source, "001565000002"));
}

// What a change drops is read again in the background, in one read for all of it, so the
// requests that follow read nothing; devices added after the preload come in the same way.
TEST_F(CachedStoreTest, RefillReadsAgainWhatChangesDropped) {
  KeyedSource source;
  source.AddFleet(3);
  FleetCache cache(100, std::nullopt, steady_);
  ASSERT_EQ(cache.Preload(source).value(), 3u);
  source.fleet.devices[0].locked_reason = "stolen";
  source.changes.Record(ChangedKey::Device(1));
  core::Device added = NewDevice("001565000004", 1, core::DeviceState::kProvisioned);
  added.id = 4;
  source.fleet.devices.push_back(added);
  source.fleet.lines.push_back(NewLine(4, 1, std::nullopt));
  source.changes.Record(ChangedKey::Device(4));
  source.changes.Record(ChangedKey::Tenant(1));
  const int pages = source.pages;
  const int reads = source.reads;
  EXPECT_EQ(cache.Refill(source).value(), 2u);
  EXPECT_EQ(source.pages, pages + 1);  // one read for both devices
  CachedStore cached(source, cache);
  EXPECT_EQ(cached.FindProvenDevice(source.fleet.devices[0].mac).value()->locked_reason, "stolen");
  ASSERT_TRUE(cached.FindProvenDevice(source.fleet.devices[3].mac));
  ASSERT_TRUE(cached.ListLines(4));
  ASSERT_TRUE(cached.GetTenantShared(1));
  EXPECT_EQ(source.reads, reads + 1);           // the tenant, by Refill; the requests read nothing
  EXPECT_EQ(cache.Refill(source).value(), 0u);  // nothing left to read
  EXPECT_EQ(source.pages, pages + 1);

  FleetCache expiring(100, kCacheMaxAge, steady_);  // SQLite's: entries expire, no refill
  ASSERT_EQ(expiring.Preload(source).value(), 4u);
  source.changes.Record(ChangedKey::Device(1));
  EXPECT_EQ(expiring.Refill(source).value(), 0u);
}

// A last-seen write that lands while Refill reads makes what it read older than the cache's
// last-seen values: those devices are not kept, and are read again at the next call.
TEST_F(CachedStoreTest, ARefillOvertakenByALastSeenWriteIsReadAgain) {
  KeyedSource source;
  source.AddFleet(3);
  FleetCache cache(100, std::nullopt, steady_);
  ASSERT_EQ(cache.Preload(source).value(), 3u);
  source.changes.Record(ChangedKey::Device(1));
  source.during_read = [&] { cache.ApplySeen({{.device_id = 3, .time = kStartUnix}}); };
  EXPECT_EQ(cache.Refill(source).value(), 0u);
  EXPECT_FALSE(cache.FindDevice(source, source.fleet.devices[0].mac.str()));
  EXPECT_EQ(cache.Refill(source).value(), 1u);
  EXPECT_TRUE(cache.FindDevice(source, source.fleet.devices[0].mac.str()));
}

// A change of anything (a lost listener, an unreadable announcement) empties the cache; Refill
// then reads the whole fleet again, a page per call.
TEST_F(CachedStoreTest, AfterAChangeOfAnythingRefillReadsTheFleetAgain) {
  KeyedSource source;
  source.AddFleet(3);
  FleetCache cache(100, std::nullopt, steady_);
  ASSERT_EQ(cache.Preload(source).value(), 3u);
  source.changes.Record(std::nullopt);
  EXPECT_EQ(cache.Refill(source, 2).value(), 2u);
  EXPECT_EQ(cache.Refill(source, 2).value(), 1u);
  EXPECT_EQ(cache.Refill(source, 2).value(), 0u);  // the end of the fleet
  const int reads = source.reads;
  CachedStore cached(source, cache);
  for (const auto& d : source.fleet.devices) ASSERT_TRUE(cached.FindProvenDevice(d.mac));
  ASSERT_TRUE(cached.GetTenantShared(1));
  EXPECT_EQ(source.reads, reads);
  const int pages = source.pages;
  EXPECT_EQ(cache.Refill(source, 2).value(), 0u);
  EXPECT_EQ(source.pages, pages);  // done: nothing more to read

  FleetCache small(2, std::nullopt, steady_);  // a reload stops where the cache is full
  source.changes.Record(std::nullopt);
  EXPECT_EQ(small.Refill(source, 5).value(), 2u);
  EXPECT_EQ(small.Refill(source, 5).value(), 0u);
  EXPECT_TRUE(small.FindDevice(source, source.fleet.devices[1].mac.str()));
}

}  // namespace
}  // namespace provgate::store
