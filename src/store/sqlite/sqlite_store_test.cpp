#include "store/sqlite/sqlite_store.hpp"
#include "base/file.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <thread>

#include "crypto/random.hpp"
#include "store/invariant_contract_test.hpp"
#include "store/sqlite/migrate.hpp"
#include "store/sqlite/test_support.hpp"
#include "store/store_contract_test.hpp"

namespace provgate::store {
namespace {

namespace fs = std::filesystem;
using contract::Mac;
using contract::NewDevice;
using contract::NewLine;
using test_support::Box;
using test_support::SqliteFactory;
using test_support::TempDir;

}  // namespace
namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Types<SqliteFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ProvenReadsContract, ::testing::Types<SqliteFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, InvariantContract, ::testing::Types<SqliteFactory>);
}  // namespace contract
namespace {

// Raw access to the file, bypassing SqliteStore, to check what is really on disk.
class RawDb {
 public:
  explicit RawDb(const fs::path& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() { sqlite3_close_v2(db_); }

  // First column of every row, as bytes.
  std::vector<std::string> Query(const char* sql) {
    std::vector<std::string> out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, 0));
      const int n = sqlite3_column_bytes(stmt, 0);
      out.emplace_back(data == nullptr ? "" : std::string(data, static_cast<size_t>(n)));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  int Exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }

  // Every row of every table but schema_version, in rowid order: table -> rows, each row
  // column -> value as bytes (nullopt for NULL).
  using Row = std::map<std::string, std::optional<std::string>>;
  std::map<std::string, std::vector<Row>> Dump() {
    std::map<std::string, std::vector<Row>> out;
    for (const auto& table : Query("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                   "name NOT LIKE 'sqlite_%' AND name <> 'schema_version'")) {
      const std::string sql = "SELECT * FROM " + table + " ORDER BY rowid";
      sqlite3_stmt* stmt = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
      auto& rows = out[table];
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        Row& row = rows.emplace_back();
        for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
          std::optional<std::string>& value = row[sqlite3_column_name(stmt, c)];
          if (sqlite3_column_type(stmt, c) == SQLITE_NULL) continue;
          const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, c));
          value.emplace(data, static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
        }
      }
      sqlite3_finalize(stmt);
    }
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string ReadFileBytes(const fs::path& path) {
  auto bytes = ReadWholeFile(path);
  return bytes ? *bytes : std::string();
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::InitCrypto()); }

  std::unique_ptr<SqliteStore> OpenStore(crypto::SecretBox box = Box()) {
    auto store = SqliteStore::Open(db_path_, std::move(box), clock_);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  TempDir dir_;
  fs::path db_path_ = dir_.path() / "provgate.db";
  ManualClock clock_{FromUnix(contract::kStartUnix)};
};

// Text bound without a copy is only borrowed while the Statement lives: the cached
// statement keeps no pointer to it afterwards (ASan would see the read of freed text).
TEST_F(SqliteStoreTest, UncopiedTextIsForgottenWithItsStatement) {
  auto db = sqlite::Connection::Open(db_path_);
  ASSERT_TRUE(db) << db.error().message;
  constexpr std::string_view kSql = "SELECT ?1 IS NULL, ?1";
  {
    auto text = std::make_unique<std::string>("borrowed for one step");
    auto s = db->Prepare(kSql).value();
    s.BindTextUncopied(1, *text);
    ASSERT_TRUE(s.Step().value());
    EXPECT_EQ(s.Int(0), 0);
    EXPECT_EQ(s.Text(1), "borrowed for one step");
  }
  auto same = db->Prepare(kSql).value();  // the cached statement, without a binding
  ASSERT_TRUE(same.Step().value());
  EXPECT_EQ(same.Int(0), 1);
}

// A tenant's stored source ranges are parsed when the tenant is read. A list that does not
// parse (written behind provgate's back, or by an older bug) is an error naming the tenant,
// on every read path: it used to match no client at all, refusing the tenant's devices
// without a word.
TEST_F(SqliteStoreTest, UnparsableStoredRangesAreAnErrorNamingTheTenant) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto t = contract::NewTenant("acme");
  t.ip_ranges = net::IpSet::Parse({"10.0.0.0/8"}).value();
  const auto tenant = store->AddTenant(t).value();
  for (const char* stored :
       {R"(["10.0.0.0/33"])", R"(["10.0.0.1/8"])", R"(["not a network"])", R"("10.0.0.0/8")", R"([8])", "not json"}) {
    const std::string sql = fmt::format("UPDATE tenants SET ip_ranges = '{}'", stored);
    ASSERT_EQ(RawDb(db_path_).Exec(sql.c_str()), SQLITE_OK) << stored;
    std::vector<Error> errors;
    auto named = store->GetTenant(tenant.id);
    if (!named) errors.push_back(named.error());
    auto by_name = store->FindTenant("acme");
    if (!by_name) errors.push_back(by_name.error());
    auto listed = store->ListTenants();
    if (!listed) errors.push_back(listed.error());
    auto proven = static_cast<ProvenReads&>(*store).GetTenantShared(tenant.id);
    if (!proven) errors.push_back(proven.error());
    ASSERT_EQ(errors.size(), 4u) << stored;
    for (const auto& e : errors) {
      EXPECT_EQ(e.code, ErrorCode::kInternal) << stored;
      EXPECT_NE(e.message.find(fmt::format("tenant {} (acme)", tenant.id)), std::string::npos) << e.message;
      EXPECT_NE(e.message.find("ip_ranges"), std::string::npos) << e.message;
    }
  }
  ASSERT_EQ(RawDb(db_path_).Exec(R"(UPDATE tenants SET ip_ranges = '["10.0.0.0/8"]')"), SQLITE_OK);
  EXPECT_EQ(store->GetTenant(tenant.id).value().ip_ranges, t.ip_ranges);
}

// Foreign keys hold only on connections that turn them on: rows another tool wrote behind
// provgate's back, with SQLite's default, are what `db check` finds.
TEST_F(SqliteStoreTest, CheckNamesRowsWhoseParentIsGone) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  RawDb raw(db_path_);
  ASSERT_EQ(raw.Exec("INSERT INTO lines(device_id, idx, user, registrar, port, transport) "
                     "VALUES (999, 1, 'u', 'r', 5060, 'udp')"),
            SQLITE_OK);
  ASSERT_EQ(raw.Exec("INSERT INTO devices(mac, vendor, model, tenant_id, state, created_at, updated_at) "
                     "VALUES ('001565aabbce', 'yealink', 'T54W', 77, 'provisioned', 0, 0)"),
            SQLITE_OK);
  auto broken = store->CheckInvariants();
  ASSERT_TRUE(broken) << broken.error().message;
  std::map<std::string, std::vector<std::string>> rows;
  for (const auto& v : *broken) rows[v.name] = v.rows;
  EXPECT_EQ(rows["line-of-missing-device"], std::vector<std::string>{"device id 999 line 1"});
  EXPECT_EQ(rows["device-of-missing-tenant"], std::vector<std::string>{"device 001565aabbce tenant 77"});
}

TEST_F(SqliteStoreTest, UsesWalJournalMode) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  RawDb raw(db_path_);
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
}

TEST_F(SqliteStoreTest, CreatesDatabaseFileOwnerOnly) {
  const mode_t old_umask = ::umask(022);
  auto store = OpenStore();
  ::umask(old_umask);
  ASSERT_NE(store, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(db_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SqliteStoreTest, ClearTextPasswordNeverReachesTheFile) {
  const std::string secret = "Zq7-CLEARTEXT-sip-password-4711";
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto d = store->AddDevice(NewDevice("001565aabbcc")).value();
  ASSERT_TRUE(store->SetLine(NewLine(d.id, 1, secret)));
  EXPECT_EQ(store->ListLines(d.id).value().at(0).password, secret);

  RawDb raw(db_path_);
  auto stored = raw.Query("SELECT password_enc FROM lines");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].size(), secret.size() + 40u);  // nonce + tag + ciphertext
  EXPECT_EQ(stored[0].find(secret), std::string::npos);

  // While open the newest pages live in the WAL; after close they are checkpointed.
  for (const char* suffix : {"", "-wal"}) {
    auto bytes = ReadFileBytes(db_path_.string() + suffix);
    EXPECT_EQ(bytes.find(secret), std::string::npos) << suffix;
  }
  store.reset();
  EXPECT_EQ(ReadFileBytes(db_path_).find(secret), std::string::npos);
}

TEST_F(SqliteStoreTest, WrongMasterKeyCannotOpenPasswords) {
  std::int64_t device_id = 0;
  {
    auto store = OpenStore(Box(0x01));
    ASSERT_NE(store, nullptr);
    device_id = store->AddDevice(NewDevice("001565aabbcc")).value().id;
    ASSERT_TRUE(store->SetLine(NewLine(device_id, 1, "pw")));
  }
  auto store = OpenStore(Box(0x02));
  ASSERT_NE(store, nullptr);
  auto lines = store->ListLines(device_id);
  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().code, ErrorCode::kInternal);
  EXPECT_NE(lines.error().message.find("master key"), std::string::npos);
}

TEST_F(SqliteStoreTest, ReopenIsIdempotentAndKeepsData) {
  for (int i = 0; i < 3; ++i) {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->SchemaVersion().value(), schema::LatestSchemaVersion());
    if (i == 0) {
      ASSERT_TRUE(store->AddDevice(NewDevice("001565aabbcc")));
    }
    EXPECT_TRUE(store->FindDevice(Mac("001565aabbcc")));
  }
  RawDb raw(db_path_);
  EXPECT_EQ(raw.Query("SELECT count(*) FROM schema_version"),
            std::vector<std::string>{std::to_string(schema::Migrations().size())});
  EXPECT_EQ(raw.Query("SELECT applied_at FROM schema_version WHERE version = 1"),
            std::vector<std::string>{std::to_string(contract::kStartUnix)});
}

// A tenant-wide digest credential would let its holder fetch any of the tenant's configs by
// naming a MAC, and a device's digest user name is its MAC: the step drops those columns
// from a database where they are set, keeps every other value, and the store reads it.
TEST_F(SqliteStoreTest, MigrationDropsTheDigestUserColumnsAndKeepsEverythingElse) {
  constexpr int kDropsDigestUsers = 7;
  const crypto::SecretBox box = Box();
  {
    auto db = sqlite::Connection::Open(db_path_).value();
    ASSERT_TRUE(sqlite::MigrateTo(db, kDropsDigestUsers - 1, contract::kStartUnix));
    ASSERT_TRUE(
        db.Exec("INSERT INTO audit(time, kind, mac, decision, reason, json) "
                "VALUES (1, 'admin', '001565aabbcc', 'info', 'added', '{}')"));
    {
      auto tenant = db.Prepare(
                          "INSERT INTO tenants(id, name, display_name, window_days, vars, password_policy, "
                          "confirm_grace_seconds, password_length, password_alphabet, retention_days, "
                          "min_strength, ip_ranges, ip_as_identity, allow_plain_http, digest_user, "
                          "digest_password_enc, anomaly_lock, anomaly_prefix_v4, anomaly_prefix_v6, "
                          "late_first_fetch_days, lock_on_misuse) VALUES (3, 'acme', 'ACME', 21, "
                          "'{\"k\":\"v\"}', 'until-confirmed', 60, 24, 'abc123', 40, 'digest', "
                          "'[\"10.0.0.0/8\"]', 1, 1, 'pbx-user', ?1, 0, 16, 48, 5, 1)")
                        .value();
      tenant.BindBlob(1, box.Seal("tenant-wide-secret"));
      ASSERT_TRUE(tenant.Run());
    }
    {
      auto device = db.Prepare(
                          "INSERT INTO devices(id, mac, vendor, model, tenant_id, state, window_opens, "
                          "window_expires, serial, vars, created_at, updated_at, token_hash, state_changed_at, "
                          "config_key_enc, digest_password_enc, digest_user, pin_spki, locked_reason, "
                          "last_seen_at, last_seen_ip, last_user_agent, firmware, config_key_delivered_at, "
                          "admin_password_enc) "
                          "VALUES (7, '001565aabbcc', 'yealink', 'T54W', 3, 'provisioned', 100, 200, 'SN1', "
                          "'{\"d\":1}', 50, 60, 'token-hash', 70, ?1, ?2, 'phone-user', 'spki', 'stolen', 80, "
                          "'192.0.2.1', 'Yealink SIP-T54W', '96.86.0.100', 90, ?3)")
                        .value();
      device.BindBlob(1, box.Seal("config-key")).BindBlob(2, box.Seal("digest-password"));
      device.BindBlob(3, box.Seal("admin-password"));
      ASSERT_TRUE(device.Run());
    }
    {
      auto line = db.Prepare(
                        "INSERT INTO lines(device_id, idx, display_name, user, auth_user, registrar, port, "
                        "transport, password_enc, delivered_at) VALUES (7, 1, 'One', '2001', 'a2001', "
                        "'sip.example.net', 5061, 'tls', ?1, 95)")
                      .value();
      line.BindBlob(1, box.Seal("sip-password"));
      ASSERT_TRUE(line.Run());
    }
  }
  auto expected = RawDb(db_path_).Dump();
  ASSERT_EQ(expected["tenants"].at(0).at("digest_user"), "pbx-user");
  ASSERT_EQ(expected["devices"].at(0).at("digest_user"), "phone-user");
  for (const char* column : {"digest_user", "digest_password_enc"}) {
    expected["tenants"].at(0).erase(column);
  }
  expected["devices"].at(0).erase("digest_user");

  {
    auto db = sqlite::Connection::Open(db_path_).value();
    ASSERT_TRUE(sqlite::MigrateTo(db, kDropsDigestUsers, contract::kStartUnix));
  }
  EXPECT_EQ(RawDb(db_path_).Dump(), expected);

  auto store = OpenStore(box);
  ASSERT_NE(store, nullptr);
  const auto tenant = store->FindTenant("acme").value();
  EXPECT_EQ(tenant.min_strength, core::IdentityStrength::kDigest);
  EXPECT_EQ(tenant.ip_ranges.ToStrings(), std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_TRUE(tenant.lock_on_misuse);
  const auto device = store->FindDevice(Mac("001565aabbcc")).value();
  EXPECT_EQ(device.tenant_id, tenant.id);
  EXPECT_EQ(device.digest_password, "digest-password");
  EXPECT_EQ(device.config_key, "config-key");
  EXPECT_EQ(device.admin_password, "admin-password");
  EXPECT_EQ(device.pin_spki, "spki");
  EXPECT_EQ(device.firmware, "96.86.0.100");
  EXPECT_EQ(store->ListLines(device.id).value().at(0).password, "sip-password");
}

TEST_F(SqliteStoreTest, RefusesDatabaseFromNewerVersion) {
  ASSERT_NE(OpenStore(), nullptr);
  {
    RawDb raw(db_path_);
    const std::string sql = "INSERT INTO schema_version(version, description, applied_at) VALUES (" +
                            std::to_string(schema::LatestSchemaVersion() + 1) + ", 'future', 0)";
    ASSERT_EQ(raw.Exec(sql.c_str()), SQLITE_OK);
  }
  auto store = SqliteStore::Open(db_path_, Box(), clock_);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(store.error().message.find("newer provgate"), std::string::npos) << store.error().message;
}

TEST_F(SqliteStoreTest, RefusesFileThatIsNotADatabase) {
  {
    std::ofstream out(db_path_, std::ios::binary);
    out << std::string(4096, 'x');
  }
  auto store = SqliteStore::Open(db_path_, Box(), clock_);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find(db_path_.string()), std::string::npos) << store.error().message;
}

TEST_F(SqliteStoreTest, AuditTableIsAppendOnly) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  StoredAuditEvent e;
  e.kind = "admin";
  e.decision = "info";
  e.json = "{}";
  ASSERT_TRUE(store->AppendAudit(e));
  RawDb raw(db_path_);
  EXPECT_NE(raw.Exec("UPDATE audit SET decision = 'allow'"), SQLITE_OK);
  EXPECT_NE(raw.Exec("DELETE FROM audit"), SQLITE_OK);
  EXPECT_EQ(store->ListAudit("", 10).value().size(), 1u);
}

TEST_F(SqliteStoreTest, ConcurrentAddAndFindFromEightThreads) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        char mac[13];
        std::snprintf(mac, sizeof mac, "0015%02x%06x", t, i);
        auto added = store->AddDevice(NewDevice(mac));
        auto found = store->FindDevice(Mac(mac));
        if (!added || !found || found->id != added->id) ++failures;
        // Everyone also races on one shared MAC: exactly one insert may win.
        auto shared = store->AddDevice(NewDevice("001565ffffff"));
        if (!shared && shared.error().code != ErrorCode::kAlreadyExists) ++failures;
        if (!store->ListDevices({.tenant_id = std::nullopt, .state = core::DeviceState::kStock})) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->ListDevices({}).value().size(), size_t{kThreads * kPerThread + 1});
}

}  // namespace
}  // namespace provgate::store
