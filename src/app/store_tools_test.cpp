// `provgate db copy` and `provgate key rotate` below the CLI: a store filled through the real
// store, operator-store and portal-user code paths on one backend, then copied or rotated and
// read back through those paths. PostgreSQL cases are skipped without PROVGATE_TEST_PG_URL
// (scripts/pg-test-server.sh run ... sets it).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "app/master_key.hpp"
#include "app/store_backend.hpp"
#include "store/postgres/test_support.hpp"
#include "store/sqlite/test_support.hpp"
#include "store/store_contract_test.hpp"
#include "store/transfer/copy.hpp"
#include "store/transfer/reseal.hpp"

namespace provgate::app {
namespace {

namespace fs = std::filesystem;
using store::contract::Mac;
using store::contract::NewDevice;
using store::contract::NewLine;
using store::contract::NewTenant;
using store::test_support::PgScratchSchema;
using store::test_support::TempDir;
using store::transfer::MigrateTarget;
using store::transfer::TableAccess;

constexpr const char* kMacs[] = {"001565a1b2c3", "805ec0d4e5f6", "0004f2a1b2c3"};
constexpr std::int64_t kNow = store::contract::kStartUnix;

// Everything a config renders from, secrets in clear, as one comparable text.
std::string DeviceView(store::Store& s, std::string_view mac) {
  auto d = s.FindDevice(Mac(mac));
  if (!d) return "missing: " + d.error().message;
  std::string out = fmt::format("{} {} {} {} {} {} {} {} {} {} {}|", d->id, d->mac.str(), d->vendor, d->model,
                                d->tenant_id.value_or(-1), d->vars.dump(), d->token_hash, d->config_key.value_or("-"),
                                d->digest_password.value_or("-"), d->admin_password.value_or("-"), d->serial);
  auto lines = s.ListLines(d->id);
  if (!lines) return "lines: " + lines.error().message;
  for (const auto& l : *lines) {
    out += fmt::format("{} {} {} {} {};", l.index, l.user, l.registrar, l.password.value_or("-"),
                       l.delivered_at.value_or(-1));
  }
  return out;
}

// Fills every table of the configured store through the code paths the server, the CLI and
// the portal use; `box` seals the secrets the caller seals itself (TOTP secrets).
void Fill(const Config& c, const crypto::SecretBox& box) {
  ManualClock clock{FromUnix(kNow)};
  auto s = OpenStore(c, box, clock, 1).value();
  auto acme = s->AddTenant(NewTenant("acme")).value();
  auto other = s->AddTenant(NewTenant("other")).value();
  for (size_t i = 0; i < std::size(kMacs); ++i) {
    auto d = NewDevice(kMacs[i], i == 2 ? other.id : acme.id, core::DeviceState::kAssigned);
    d.window_opens = kNow;
    d.window_expires = kNow + 7 * 86400;
    d.config_key = "0123456789abcdef0123456789abcde" + std::to_string(i);
    d.digest_password = "digest-" + std::to_string(i);
    if (i != 1) d.admin_password = "admin-" + std::to_string(i);
    d.token_hash = std::string(63, 'a') + std::to_string(i);
    auto added = s->AddDevice(d).value();
    ASSERT_TRUE(s->SetLine(NewLine(added.id, 1, "sip-secret-" + std::to_string(i))));
    ASSERT_TRUE(s->SetLine(NewLine(added.id, 2, std::nullopt)));
  }
  store::StoredAuditEvent e{.id = 0,
                            .time = kNow,
                            .kind = "admin",
                            .mac = kMacs[0],
                            .tenant_id = acme.id,
                            .decision = "info",
                            .reason = "device-add",
                            .json = R"({"k":"v"})"};
  ASSERT_TRUE(s->AppendAudit(e));
  e.reason = "ünïcode 🔐";
  ASSERT_TRUE(
      s->AppendAuditBatch({e}, {}, store::AuditCopyMark{.file = "audit.jsonl", .offset = 42, .run = "r1", .seq = 7}));
  ASSERT_TRUE(s->SaveBan(defense::Ban{
      .source = "192.0.2.7/32", .reason = "scan", .created = kNow, .expires = kNow + 60, .offence_count = 2}));
  ASSERT_TRUE(s->SaveBan(defense::Ban{
      .source = "2001:db8::/64", .reason = "scan", .created = kNow, .expires = kNow + 60, .offence_count = 1}));
  auto ops = OpenOperatorStore(c).value();
  ASSERT_TRUE(ops->AddApiKey(store::ApiKeyRecord{.id = 0,
                                                 .prefix = "abcdefgh",
                                                 .hash = std::string(64, 'b'),
                                                 .role = "admin",
                                                 .tenant_id = std::nullopt,
                                                 .name = "ci",
                                                 .created_by = "test",
                                                 .created_at = kNow,
                                                 .expires_at = std::nullopt,
                                                 .last_used_at = std::nullopt,
                                                 .revoked_at = std::nullopt}));
  auto users = OpenPortalUsers(c).value();
  portal::UserRecord u;
  u.name = "alice";
  u.role = "tenant-admin";
  u.tenant_id = acme.id;
  u.password_hash = "$argon2id$placeholder";
  u.totp_secret_enc = box.Seal("JBSWY3DPEHPK3PXP");
  u.created_at = kNow;
  auto alice = users->AddUser(u, {std::string(64, 'c'), std::string(64, 'd')}).value();
  ASSERT_TRUE(users->AddSession(portal::SessionRecord{
      .id_hash = std::string(64, 'e'), .user_id = alice.id, .created_at = kNow, .last_seen_at = kNow}));
}

// Every sealed value of the store, opened under `box`: how many open, how many do not.
std::pair<int, int> CountOpening(TableAccess& db, const crypto::SecretBox& box) {
  int open = 0;
  int closed = 0;
  for (const auto& t : db.Tables().value()) {
    const auto sealed = t.SealedColumns();
    if (sealed.empty()) continue;
    for (const auto& row : db.ReadPage(t, nullptr, 100000).value()) {
      for (size_t c : sealed) {
        if (!row[c]) continue;
        (box.Open(std::vector<unsigned char>(row[c]->begin(), row[c]->end())) ? open : closed)++;
      }
    }
  }
  return {open, closed};
}

std::string FileBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// --- db copy ---

class DbCopy : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    source_.db_path = dir_.path() / "source.db";
    source_.master_key_path = dir_.path() / "master.key";
    Fill(source_, box_);
  }
  std::unique_ptr<TableAccess> Source() { return store::transfer::OpenSqliteTables(source_.db_path).value(); }

  TempDir dir_;
  Config source_;
  crypto::SecretBox box_ = store::test_support::Box();
};

TEST_F(DbCopy, TheFilledStoreHasRowsInEveryTable) {
  auto src = Source();
  for (const auto& t : src->Tables().value()) {
    EXPECT_GT(src->CountRows(t).value(), 0) << t.name << " is not filled: extend Fill() so db copy is tested on it";
  }
}

TEST_F(DbCopy, SqliteToSqliteCopiesEveryRowAndServesTheSameData) {
  Config target = source_;
  target.db_path = dir_.path() / "target.db";
  std::ofstream(target.db_path).close();
  auto to = store::transfer::OpenSqliteTables(target.db_path).value();
  auto report = store::transfer::CopyStore(*Source(), *to, MigrateTarget::kYes, kNow);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->committed);
  for (const auto& t : report->tables) {
    EXPECT_EQ(t.source, t.target) << t.table;
    EXPECT_GT(t.source.rows, 0) << t.table;
  }
  ManualClock clock{FromUnix(kNow)};
  auto a = OpenStore(source_, box_, clock, 1).value();
  auto b = OpenStore(target, box_, clock, 1).value();
  for (const char* mac : kMacs) EXPECT_EQ(DeviceView(*a, mac), DeviceView(*b, mac));
  EXPECT_TRUE(a->CheckInvariants().value().empty());
  EXPECT_TRUE(b->CheckInvariants().value().empty());
}

TEST_F(DbCopy, RefusesASourceWhoseRowsItCannotAllReadInKeyOrder) {
  // A crafted source: a thousand bans with a NULL key (SQLite allows it in a TEXT primary
  // key) fill the first page, after which "key > NULL" reads nothing.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(source_.db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
                         "INSERT INTO bans (source, reason, created, expires) SELECT NULL, 'crafted', 0, 0 FROM n",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const fs::path target = dir_.path() / "target.db";
  std::ofstream(target).close();
  auto to = store::transfer::OpenSqliteTables(target).value();
  auto report = store::transfer::CopyStore(*Source(), *to, MigrateTarget::kYes, kNow);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(report.error().message.find("source table bans has"), std::string::npos) << report.error().message;
  auto written = store::transfer::OpenSqliteTables(target).value();
  for (const auto& table : written->Tables().value()) EXPECT_EQ(written->CountRows(table).value(), 0) << table.name;
}

TEST_F(DbCopy, RefusesATargetAtAnotherSchemaVersion) {
  const fs::path target = dir_.path() / "target.db";
  std::ofstream(target).close();
  auto to = store::transfer::OpenSqliteTables(target).value();
  auto report = store::transfer::CopyStore(*Source(), *to, MigrateTarget::kNo, kNow);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(report.error().message.find("schema version 0"), std::string::npos) << report.error().message;
}

TEST_F(DbCopy, RefusesATargetWithRows) {
  Config target = source_;
  target.db_path = dir_.path() / "target.db";
  std::ofstream(target.db_path).close();
  auto to = store::transfer::OpenSqliteTables(target.db_path).value();
  ASSERT_TRUE(store::transfer::CopyStore(*Source(), *to, MigrateTarget::kYes, kNow));
  auto again = store::transfer::CopyStore(*Source(), *to, MigrateTarget::kNo, kNow);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(again.error().message.find("not empty"), std::string::npos) << again.error().message;
}

class DbCopyPostgres : public DbCopy {
 protected:
  void SetUp() override {
    if (const std::string why = PgScratchSchema::SkipReason(); !why.empty()) GTEST_SKIP() << why;
    DbCopy::SetUp();
    target_ = source_;
    target_.db_path.clear();
    target_.store_url = pg_.url();
  }
  PgScratchSchema pg_;
  Config target_;
};

TEST_F(DbCopyPostgres, SqliteToPostgresCopiesEveryRowAndServesTheSameData) {
  auto to = store::transfer::OpenPostgresTables(pg_.url()).value();
  auto report = store::transfer::CopyStore(*Source(), *to, MigrateTarget::kYes, kNow);
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_TRUE(report->committed);
  ASSERT_EQ(report->tables.size(), Source()->Tables().value().size());
  for (const auto& t : report->tables) {
    EXPECT_EQ(t.source, t.target) << t.table;
    EXPECT_GT(t.source.rows, 0) << t.table;
  }
  // A second, independent reading of the target agrees with the source.
  auto src = Source();
  for (const auto& t : src->Tables().value()) {
    EXPECT_EQ(store::transfer::SumTable(*src, t).value(), store::transfer::SumTable(*to, t).value()) << t.name;
  }
  ManualClock clock{FromUnix(kNow)};
  auto lite = OpenStore(source_, box_, clock, 1).value();
  auto pg = OpenStore(target_, box_, clock, 2).value();
  for (const char* mac : kMacs) EXPECT_EQ(DeviceView(*lite, mac), DeviceView(*pg, mac));
  EXPECT_TRUE(pg->CheckInvariants().value().empty());
  auto alice = OpenPortalUsers(target_).value()->FindUser("alice").value();
  EXPECT_EQ(box_.Open(alice.totp_secret_enc).value(), "JBSWY3DPEHPK3PXP");
  EXPECT_EQ(OpenOperatorStore(target_).value()->FindApiKey("abcdefgh").value().hash, std::string(64, 'b'));
  // The identity counters moved past the copied ids.
  auto fresh = pg->AddTenant(NewTenant("after-copy"));
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_GT(fresh->id, lite->FindTenant("other").value().id);
  store::StoredAuditEvent e{.id = 0,
                            .time = kNow,
                            .kind = "admin",
                            .mac = "",
                            .tenant_id = std::nullopt,
                            .decision = "info",
                            .reason = "after-copy",
                            .json = "{}"};
  EXPECT_TRUE(pg->AppendAudit(e));
}

TEST_F(DbCopyPostgres, PostgresToSqliteCopiesBack) {
  auto pg = store::transfer::OpenPostgresTables(pg_.url()).value();
  ASSERT_TRUE(store::transfer::CopyStore(*Source(), *pg, MigrateTarget::kYes, kNow).value().committed);
  const fs::path back = dir_.path() / "back.db";
  std::ofstream(back).close();
  auto lite = store::transfer::OpenSqliteTables(back).value();
  auto report = store::transfer::CopyStore(*pg, *lite, MigrateTarget::kYes, kNow);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->committed);
  auto src = Source();
  for (const auto& t : src->Tables().value()) {
    EXPECT_EQ(store::transfer::SumTable(*src, t).value(), store::transfer::SumTable(*lite, t).value()) << t.name;
  }
}

TEST_F(DbCopyPostgres, ATableThatDiffersFailsTheCopyAndLeavesTheTargetEmpty) {
  auto to = store::transfer::OpenPostgresTables(pg_.url()).value();
  ASSERT_TRUE(to->Migrate(kNow));
  // The target changes what it is given: one column of one table.
  auto raw = store::postgres::Connection::Open(pg_.url()).value();
  ASSERT_TRUE(raw.ExecScript(
      "CREATE FUNCTION mangle() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.reason := NEW.reason || '!'; "
      "RETURN NEW; END $$; CREATE TRIGGER mangle BEFORE INSERT ON bans FOR EACH ROW EXECUTE FUNCTION mangle()"));
  auto report = store::transfer::CopyStore(*Source(), *to, MigrateTarget::kNo, kNow);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(report->committed);
  for (const auto& t : report->tables) {
    EXPECT_EQ(t.source.rows, t.target.rows) << t.table;
    if (t.table == "bans") {
      EXPECT_NE(t.source.sha256, t.target.sha256);
    } else {
      EXPECT_EQ(t.source, t.target) << t.table;
    }
  }
  for (const auto& t : to->Tables().value()) EXPECT_EQ(to->CountRows(t).value(), 0) << t.name;
}

// --- key rotate ---

// A store on either backend with its key file in a directory of its own.
class KeyRotate : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    if (GetParam() == Backend::kPostgres) {
      if (const std::string why = PgScratchSchema::SkipReason(); !why.empty()) GTEST_SKIP() << why;
      config_.store_url = pg_.url();
    } else {
      config_.db_path = dir_.path() / "provgate.db";
    }
    config_.master_key_path = dir_.path() / "master.key";
    Fill(config_, Key());
    ManualClock clock{FromUnix(kNow)};
    auto s = OpenStore(config_, Key(), clock, 1).value();
    for (const char* mac : kMacs) before_.push_back(DeviceView(*s, mac));
    old_key_ = FileBytes(config_.master_key_path);
  }
  crypto::SecretBox Key() { return crypto::SecretBox::OpenOrCreateKeyFile(config_.master_key_path).value(); }
  std::unique_ptr<TableAccess> Tables() { return OpenConfiguredTables(config_).value(); }
  // The devices read back through the store under the current key file, after start-up's
  // recovery, are those written.
  void ExpectServesTheSameSecrets() {
    auto lock = KeyUseLock::Shared(config_);
    ASSERT_TRUE(lock) << lock.error().message;
    auto box = OpenMasterKey(config_, *lock);
    ASSERT_TRUE(box) << box.error().message;
    ManualClock clock{FromUnix(kNow)};
    auto s = OpenStore(config_, *box, clock, 1).value();
    for (size_t i = 0; i < std::size(kMacs); ++i) EXPECT_EQ(DeviceView(*s, kMacs[i]), before_[i]);
    auto alice = OpenPortalUsers(config_).value()->FindUser("alice").value();
    EXPECT_EQ(box->Open(alice.totp_secret_enc).value(), "JBSWY3DPEHPK3PXP");
    EXPECT_FALSE(fs::exists(StagedKeyPath(config_.master_key_path)));
  }

  TempDir dir_;
  PgScratchSchema pg_;
  Config config_;
  std::string old_key_;
  std::vector<std::string> before_;
};

TEST_P(KeyRotate, ResealsEverySecretUnderANewKeyAndDestroysTheOld) {
  const auto old_box = Key();
  const auto [open_before, closed_before] = CountOpening(*Tables(), old_box);
  ASSERT_EQ(closed_before, 0);
  // 3 config keys, 3 digest and 2 admin passwords, 3 line passwords, 1 TOTP secret.
  ASSERT_EQ(open_before, 12);
  auto resealed = RotateMasterKey(config_);
  ASSERT_TRUE(resealed) << resealed.error().message;
  std::int64_t total = 0;
  for (const auto& c : *resealed) total += c.secrets;
  EXPECT_EQ(total, 12);
  EXPECT_NE(FileBytes(config_.master_key_path), old_key_);
  EXPECT_EQ(fs::status(config_.master_key_path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(CountOpening(*Tables(), Key()), std::make_pair(12, 0));
  EXPECT_EQ(CountOpening(*Tables(), old_box), std::make_pair(0, 12));
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    if (entry.is_regular_file()) {
      EXPECT_NE(FileBytes(entry.path()), old_key_) << entry.path();
    }
  }
  ExpectServesTheSameSecrets();
}

TEST_P(KeyRotate, ACrashAfterTheCommitIsFinishedAtTheNextStart) {
  const auto old_box = Key();
  auto staged = crypto::SecretBox::OpenOrCreateKeyFile(StagedKeyPath(config_.master_key_path)).value();
  ASSERT_TRUE(store::transfer::ResealSecrets(*Tables(), old_box, staged));
  // The process dies here: the key file still holds the old key, the store the new one.
  ExpectServesTheSameSecrets();
  EXPECT_EQ(CountOpening(*Tables(), Key()), std::make_pair(12, 0));
  EXPECT_NE(FileBytes(config_.master_key_path), old_key_);
}

TEST_P(KeyRotate, ACrashBeforeTheCommitIsUndoneAtTheNextStart) {
  (void)crypto::SecretBox::OpenOrCreateKeyFile(StagedKeyPath(config_.master_key_path)).value();
  // The process dies before its transaction commits: the store keeps the old key.
  ExpectServesTheSameSecrets();
  EXPECT_EQ(FileBytes(config_.master_key_path), old_key_);
}

TEST_P(KeyRotate, AFailureInsideTheTransactionChangesNothing) {
  // The last sealed value written (the TOTP secret, in the last table) does not open, so the
  // reseal fails after it has re-sealed every device and line in its transaction.
  auto db = Tables();
  for (const auto& t : db->Tables().value()) {
    if (t.name != "portal_users") continue;
    auto rows = db->ReadPage(t, nullptr, 10).value();
    const size_t c = t.SealedColumns().at(0);
    rows[0][c] = std::string(60, 'x');
    ASSERT_TRUE(db->Begin(store::transfer::TransactionMode::kWrite));
    ASSERT_TRUE(db->Update(t, {c}, rows));
    ASSERT_TRUE(db->Commit());
  }
  auto resealed = RotateMasterKey(config_);
  ASSERT_FALSE(resealed);
  EXPECT_EQ(resealed.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(resealed.error().message.find("portal_users.totp_secret_enc"), std::string::npos)
      << resealed.error().message;
  EXPECT_EQ(FileBytes(config_.master_key_path), old_key_);
  EXPECT_FALSE(fs::exists(StagedKeyPath(config_.master_key_path)));
  EXPECT_EQ(CountOpening(*Tables(), Key()), std::make_pair(11, 1));
  ManualClock clock{FromUnix(kNow)};
  auto s = OpenStore(config_, Key(), clock, 1).value();
  for (size_t i = 0; i < std::size(kMacs); ++i) EXPECT_EQ(DeviceView(*s, kMacs[i]), before_[i]);
}

TEST_P(KeyRotate, ANodeStillHoldingTheOldKeyRefusesToStart) {
  ASSERT_TRUE(RotateMasterKey(config_));
  Config stale = config_;
  stale.master_key_path = dir_.path() / "stale.key";
  {
    std::ofstream out(stale.master_key_path, std::ios::binary);
    out << old_key_;
  }
  fs::permissions(stale.master_key_path, fs::perms::owner_read | fs::perms::owner_write);
  auto stale_lock = KeyUseLock::Shared(stale).value();
  auto box = OpenMasterKey(stale, stale_lock);
  ASSERT_FALSE(box);
  EXPECT_EQ(box.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(box.error().message.find("does not open the secrets"), std::string::npos) << box.error().message;
  auto lock = KeyUseLock::Shared(config_).value();
  EXPECT_TRUE(OpenMasterKey(config_, lock));
}

TEST_P(KeyRotate, IsRefusedWhileAProcessOnThisMachineUsesTheKey) {
  auto in_use = KeyUseLock::Shared(config_).value();  // a server or a command
  auto resealed = RotateMasterKey(config_);
  ASSERT_FALSE(resealed);
  EXPECT_EQ(resealed.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(resealed.error().message.find("using the master key"), std::string::npos) << resealed.error().message;
  EXPECT_EQ(FileBytes(config_.master_key_path), old_key_);
  EXPECT_FALSE(fs::exists(StagedKeyPath(config_.master_key_path)));
}

TEST_P(KeyRotate, NoProcessRecoversOrUsesTheKeyWhileARotationIsBetweenItsSteps) {
  const auto old_box = Key();
  {
    auto rotating = KeyUseLock::Exclusive(config_).value();
    auto staged = crypto::SecretBox::OpenOrCreateKeyFile(StagedKeyPath(config_.master_key_path)).value();
    // Another process starting now (a server, `db check` from cron) sees <key>.new before the
    // commit: it must neither remove it nor use the old key.
    auto other = KeyUseLock::Shared(config_);
    ASSERT_FALSE(other);
    EXPECT_NE(other.error().message.find("rotation is running"), std::string::npos) << other.error().message;
    EXPECT_TRUE(fs::exists(StagedKeyPath(config_.master_key_path)));
    ASSERT_TRUE(store::transfer::ResealSecrets(*Tables(), old_box, staged));
    ASSERT_TRUE(crypto::SecretBox::InstallKeyFile(StagedKeyPath(config_.master_key_path), config_.master_key_path));
  }  // the rotation ends
  ExpectServesTheSameSecrets();
  EXPECT_EQ(CountOpening(*Tables(), Key()), std::make_pair(12, 0));
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyRotate, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return p.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace provgate::app
