#include "store/postgres/postgres_store.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/invariant_contract_test.hpp"
#include "store/postgres/migrate.hpp"
#include "store/postgres/test_support.hpp"
#include "store/schema/steps.hpp"
#include "store/store_contract_test.hpp"

namespace provgate::store {
namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreContract, ::testing::Types<test_support::PostgresFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ProvenReadsContract, ::testing::Types<test_support::PostgresFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, InvariantContract, ::testing::Types<test_support::PostgresFactory>);
}  // namespace contract
namespace {

using contract::NewDevice;
using contract::NewLine;
using contract::NewTenant;
using test_support::PostgresFactory;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = factory_.SkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
  PostgresFactory factory_;
};

TEST_F(PostgresStoreTest, MigratesToTheLatestStepOnceAcrossReopens) {
  auto first = factory_.Open();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->SchemaVersion().value(), schema::LatestSchemaVersion());
  auto second = factory_.Open();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->SchemaVersion().value(), schema::LatestSchemaVersion());
  auto db = postgres::Connection::Open(factory_.schema().url());
  ASSERT_TRUE(db) << db.error().message;
  auto steps = db->Exec("SELECT COUNT(*) FROM schema_version");
  ASSERT_TRUE(steps) << steps.error().message;
  EXPECT_EQ((*steps)[0].Int(0), schema::LatestSchemaVersion());
}

TEST_F(PostgresStoreTest, AuditIsAppendOnly) {
  auto store = factory_.Open();
  ASSERT_NE(store, nullptr);
  StoredAuditEvent e;
  e.time = contract::kStartUnix;
  e.kind = "request";
  e.decision = "allow";
  e.json = "{}";
  ASSERT_TRUE(store->AppendAudit(e));
  auto db = postgres::Connection::Open(factory_.schema().url());
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_FALSE(db->Run("UPDATE audit SET reason = 'changed'"));
  EXPECT_FALSE(db->Run("DELETE FROM audit"));
}

// Deliver-once across nodes: two stores on one database (two provgate nodes), many threads
// each, all claiming the same line; exactly one claim returns it.
TEST_F(PostgresStoreTest, ConcurrentClaimsOfTwoNodesDeliverALineExactlyOnce) {
  auto node_a = factory_.Open();
  auto node_b = factory_.Open();
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  auto tenant = node_a->AddTenant(NewTenant("acme")).value();
  auto device = node_a->AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  ASSERT_TRUE(node_a->SetLine(NewLine(device.id, 1, "secret-1")));
  std::atomic<int> delivered{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    PostgresStore& node = i % 2 == 0 ? *node_a : *node_b;
    threads.emplace_back([&node, &delivered, &failed, id = device.id] {
      auto claimed = node.ClaimPasswords(id, {1}, contract::kStartUnix, "c");
      if (!claimed) {
        ++failed;
        return;
      }
      for (const auto& line : *claimed) delivered += line.password == "secret-1" ? 1 : 100;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(delivered.load(), 1);
}

// A release racing an operator's new password for one of its lines (another connection holds
// that line's row) releases nothing: the claim is no longer whole, and its other line stays
// in flight until its node gives it back, so no fetch confirms (wipes) a password that never
// left.
TEST_F(PostgresStoreTest, AReleaseRacingANewPasswordForOneOfItsLinesReleasesNothing) {
  auto store = factory_.Open();
  ASSERT_NE(store, nullptr);
  auto tenant = store->AddTenant(NewTenant("acme")).value();
  auto device = store->AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  ASSERT_TRUE(store->SetLine(NewLine(device.id, 1, "secret-1")));
  ASSERT_TRUE(store->SetLine(NewLine(device.id, 2, "secret-2")));
  ASSERT_EQ(store->ClaimPasswords(device.id, {1, 2}, contract::kStartUnix, "raced").value().size(), 2u);

  auto editor = postgres::Connection::Open(factory_.schema().url());
  auto watcher = postgres::Connection::Open(factory_.schema().url());
  ASSERT_TRUE(editor && watcher);
  auto edit = postgres::Transaction::Begin(*editor);
  ASSERT_TRUE(edit) << edit.error().message;
  auto editor_pid = editor->Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(editor_pid) << editor_pid.error().message;
  const std::int64_t blocker = (*editor_pid)[0].Int(0);
  ASSERT_TRUE(editor->Exec("UPDATE lines SET delivered_at = NULL, claim_in_flight = 0 WHERE device_id = $1 AND idx = 2",
                           postgres::Params().BindInt(1, device.id)));
  Result<bool> released = false;
  std::thread releasing([&] { released = store->ReleaseClaim(device.id, "raced", 2); });
  // The release must be waiting for the editor's row lock before the edit commits.
  bool waiting = false;
  for (int i = 0; i < 1000 && !waiting; ++i) {
    auto n = watcher->Exec("SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                           postgres::Params().BindInt(1, blocker));
    waiting = n && (*n)[0].Int(0) > 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(waiting);
  const bool committed = static_cast<bool>(edit->Commit());
  releasing.join();
  ASSERT_TRUE(committed);
  ASSERT_TRUE(released) << released.error().message;
  EXPECT_FALSE(*released);
  const auto lines = store->ListLines(device.id).value();
  EXPECT_TRUE(lines.at(0).claim_in_flight);  // not released: given back by its node
  EXPECT_FALSE(lines.at(1).claim_in_flight);
}

// Cache invalidation across nodes: a write through one node changes the other's
// DataGeneration (its fleet cache re-reads), and the other's own reads do not.
TEST_F(PostgresStoreTest, AWriteThroughOneNodeChangesTheOtherNodesGeneration) {
  auto node_a = factory_.Open();
  auto node_b = factory_.Open();
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  auto tenant = node_a->AddTenant(NewTenant("acme")).value();
  auto device = node_a->AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  // Node b has seen a's writes so far once it has seen the last one.
  const std::uint64_t before = node_b->DataGeneration();
  ASSERT_TRUE(node_a->LockDevice(device.id, "misuse"));
  EXPECT_TRUE(node_b->WaitForChange(before, std::chrono::seconds(10))) << "node b never heard of the lock";
  EXPECT_EQ(node_b->FindDevice(device.mac).value().locked_reason, "misuse");
}

// Waits (up to 10 s) until `node` has heard of a change of `key` after `since`; returns the
// changes it has heard of then. A node hears another's notifications in commit order.
DataChanges HeardOf(PostgresStore& node, std::uint64_t since, ChangedKey key) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const std::uint64_t now = node.DataGeneration();
    DataChanges changes = node.ChangesSince(since);
    if ((changes.keys && changes.Touches(key)) || std::chrono::steady_clock::now() > give_up) return changes;
    node.WaitForChange(now, std::chrono::milliseconds(100));
  }
}

class PostgresChangesTest : public PostgresStoreTest {
 protected:
  void SetUp() override {
    PostgresStoreTest::SetUp();
    if (IsSkipped()) return;
    node_a_ = factory_.Open();
    node_b_ = factory_.Open();
    ASSERT_NE(node_a_, nullptr);
    ASSERT_NE(node_b_, nullptr);
    const std::uint64_t start = node_b_->DataGeneration();
    tenant_ = node_a_->AddTenant(NewTenant("acme")).value();
    one_ = node_a_->AddDevice(NewDevice("001565aabbc1", tenant_.id, core::DeviceState::kProvisioned)).value();
    two_ = node_a_->AddDevice(NewDevice("001565aabbc2", tenant_.id, core::DeviceState::kProvisioned)).value();
    ASSERT_TRUE(HeardOf(*node_b_, start, ChangedKey::Device(two_.id)).Touches(ChangedKey::Device(two_.id)));
  }
  // A write behind provgate's back (psql) to device two, to know when a node has heard
  // everything written before it.
  void Marker() {
    ASSERT_TRUE(factory_.Execute(fmt::format("UPDATE devices SET serial = 'm' WHERE id = {}", two_.id)));
  }

  std::unique_ptr<PostgresStore> node_a_;
  std::unique_ptr<PostgresStore> node_b_;
  core::Tenant tenant_;
  core::Device one_;
  core::Device two_;
};

// Another node hears which device a write changed, so its fleet cache drops only that one.
TEST_F(PostgresChangesTest, AnotherNodesWriteNamesTheDeviceItChanged) {
  const std::uint64_t before = node_b_->DataGeneration();
  ASSERT_TRUE(node_a_->LockDevice(one_.id, "misuse"));
  const DataChanges heard = HeardOf(*node_b_, before, ChangedKey::Device(one_.id));
  ASSERT_TRUE(heard.keys);
  EXPECT_TRUE(heard.Touches(ChangedKey::Device(one_.id)));
  EXPECT_FALSE(heard.Touches(ChangedKey::Device(two_.id)));
  EXPECT_FALSE(heard.Touches(ChangedKey::Tenant(tenant_.id)));

  const std::uint64_t tenant_before = node_b_->DataGeneration();
  ASSERT_TRUE(node_a_->SetLine(NewLine(two_.id, 1, std::nullopt)));
  auto tenant = tenant_;
  tenant.display_name = "Acme";
  ASSERT_TRUE(node_a_->UpdateTenant(tenant));
  const DataChanges tenant_heard = HeardOf(*node_b_, tenant_before, ChangedKey::Tenant(tenant_.id));
  EXPECT_TRUE(tenant_heard.Touches(ChangedKey::Device(two_.id)));  // a line is its device's
  EXPECT_FALSE(tenant_heard.Touches(ChangedKey::Device(one_.id)));
}

// A write made behind provgate's back is announced by the tables' triggers all the same.
TEST_F(PostgresChangesTest, AWriteWithPsqlIsHeardByEveryNode) {
  const std::uint64_t a_before = node_a_->DataGeneration();
  const std::uint64_t b_before = node_b_->DataGeneration();
  ASSERT_TRUE(factory_.Execute(fmt::format("UPDATE devices SET locked_reason = 'x' WHERE id = {}", one_.id)));
  EXPECT_TRUE(HeardOf(*node_a_, a_before, ChangedKey::Device(one_.id)).Touches(ChangedKey::Device(one_.id)));
  EXPECT_TRUE(HeardOf(*node_b_, b_before, ChangedKey::Device(one_.id)).Touches(ChangedKey::Device(one_.id)));
  const std::uint64_t truncated = node_b_->DataGeneration();
  ASSERT_TRUE(factory_.Execute("TRUNCATE lines"));
  const auto start = std::chrono::steady_clock::now();
  while (node_b_->ChangesSince(truncated).keys && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    node_b_->WaitForChange(node_b_->DataGeneration(), std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(node_b_->ChangesSince(truncated).keys) << "a TRUNCATE changes anything";
}

// The audit copy's last-seen writes on every boot are not announced, or a storm of booting
// phones would empty every other node's cache; a first sighting and a new address are.
TEST_F(PostgresChangesTest, OnlyALastSeenThatMattersIsAnnounced) {
  const auto seen = [&](std::int64_t time, const char* ip, const char* ua) {
    ASSERT_TRUE(node_a_->AppendAuditBatch({}, {{one_.id, time, ip, ua, ""}}, std::nullopt));
  };
  std::uint64_t before = node_b_->DataGeneration();
  seen(contract::kStartUnix, "192.0.2.1", "ua-1");
  EXPECT_TRUE(HeardOf(*node_b_, before, ChangedKey::Device(one_.id)).Touches(ChangedKey::Device(one_.id)))
      << "a first sighting";

  before = node_b_->DataGeneration();
  seen(contract::kStartUnix + 60, "192.0.2.1", "ua-2");
  Marker();
  DataChanges heard = HeardOf(*node_b_, before, ChangedKey::Device(two_.id));
  ASSERT_TRUE(heard.keys);
  EXPECT_FALSE(heard.Touches(ChangedKey::Device(one_.id))) << "the same address, later";

  before = node_b_->DataGeneration();
  seen(contract::kStartUnix + 120, "198.51.100.7", "ua-2");
  EXPECT_TRUE(HeardOf(*node_b_, before, ChangedKey::Device(one_.id)).Touches(ChangedKey::Device(one_.id)))
      << "a new address";
}

// A node counts its own write once, when it returns; the trigger's echo is not a second one.
TEST_F(PostgresChangesTest, ANodesOwnWriteCountsOnce) {
  const std::uint64_t before = node_a_->DataGeneration();
  ASSERT_TRUE(node_a_->LockDevice(one_.id, "misuse"));
  const DataChanges own = node_a_->ChangesSince(before);
  ASSERT_TRUE(own.keys);
  EXPECT_EQ(*own.keys, std::vector{ChangedKey::Device(one_.id)});
  const std::uint64_t after = node_a_->DataGeneration();
  Marker();
  const DataChanges later = HeardOf(*node_a_, after, ChangedKey::Device(two_.id));
  ASSERT_TRUE(later.keys);
  EXPECT_EQ(*later.keys, std::vector{ChangedKey::Device(two_.id)});
}

// Installations in other schemas of the same database write devices with the same ids:
// their writes are not this one's changes.
TEST_F(PostgresChangesTest, AnotherSchemasWritesAreNotHeard) {
  PostgresFactory elsewhere;
  auto other = elsewhere.Open();
  ASSERT_NE(other, nullptr);
  const std::uint64_t before = node_b_->DataGeneration();
  auto tenant = other->AddTenant(NewTenant("other")).value();
  auto device = other->AddDevice(NewDevice("001565aabbc1", tenant.id, core::DeviceState::kProvisioned)).value();
  ASSERT_TRUE(other->LockDevice(device.id, "x"));
  Marker();
  const DataChanges heard = HeardOf(*node_b_, before, ChangedKey::Device(two_.id));
  ASSERT_TRUE(heard.keys);
  EXPECT_EQ(*heard.keys, std::vector{ChangedKey::Device(two_.id)});
}

// A TCP proxy to the test server that can go silent: it keeps every connection open but
// passes no more bytes, as a network path that vanished without a reset does.
class SilentProxy {
 public:
  explicit SilentProxy(int target_port) : target_port_(target_port) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listen_, 16) != 0 ||
        ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "proxy: " << std::strerror(errno);
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  SilentProxy(const SilentProxy&) = delete;
  SilentProxy& operator=(const SilentProxy&) = delete;
  ~SilentProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
    for (const auto& [a, b] : pairs_) {
      ::close(a);
      ::close(b);
    }
  }
  int port() const { return port_; }
  void GoSilent() { silent_ = true; }

 private:
  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds{{.fd = listen_, .events = POLLIN, .revents = 0}};
      if (!silent_) {
        for (const auto& [a, b] : pairs_) {
          fds.push_back({.fd = a, .events = POLLIN, .revents = 0});
          fds.push_back({.fd = b, .events = POLLIN, .revents = 0});
        }
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) Accept();
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const auto& pair = pairs_[(i - 1) / 2];
        const int from = fds[i].fd;
        const int to = from == pair.first ? pair.second : pair.first;
        char buf[16384];
        const ssize_t n = ::read(from, buf, sizeof buf);
        if (n > 0) (void)!::write(to, buf, static_cast<size_t>(n));
      }
    }
  }
  void Accept() {
    const int client = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(target_port_));
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(client);
      ::close(server);
      return;
    }
    pairs_.emplace_back(client, server);
  }

  const int target_port_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> silent_{false};
  std::vector<std::pair<int, int>> pairs_;  // the proxy thread's, until it is joined
  std::thread thread_;
};

// A listening connection that went silent (no reset, no answer) is noticed, counted as a
// change of anything (the writes it missed are unknown) and replaced, instead of leaving
// the node deaf to every other node's writes until the kernel gives up, hours later.
TEST_F(PostgresStoreTest, AChangeListenerWhoseConnectionWentSilentIsReplaced) {
  ASSERT_NE(factory_.Open(), nullptr);  // the schema, migrated
  const std::string url = factory_.schema().url();
  std::smatch port;
  ASSERT_TRUE(std::regex_search(url, port, std::regex(R"(127\.0\.0\.1:(\d+)/)"))) << url;
  SilentProxy proxy(std::stoi(port[1].str()));
  const std::string proxied =
      std::regex_replace(url, std::regex(R"(127\.0\.0\.1:\d+/)"), "127.0.0.1:" + std::to_string(proxy.port()) + "/");
  auto feed = postgres::ChangeFeed::Start(
      proxied, {.ping_after_quiet = std::chrono::milliseconds(200), .answer_within = std::chrono::milliseconds(500)});
  ASSERT_TRUE(feed) << feed.error().message;
  const std::uint64_t before = (*feed)->Load();
  // Quiet but answering: the pings pass and nothing changes.
  EXPECT_FALSE((*feed)->WaitBeyond(before, std::chrono::milliseconds(700)));
  proxy.GoSilent();
  EXPECT_TRUE((*feed)->WaitBeyond(before, std::chrono::seconds(10))) << "the listener never noticed";
  EXPECT_FALSE((*feed)->ChangesSince(before).keys) << "a change of anything";
}

TEST(ChangeFeedPayload, ReadsWhatTheTriggersWriteAndRefusesTheRest) {
  using postgres::ChangeFeed;
  const auto d = ChangeFeed::Parse("0a1b public d 42");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->origin, "0a1b");
  EXPECT_EQ(d->schema, "public");
  EXPECT_EQ(d->key, ChangedKey::Device(42));
  EXPECT_EQ(ChangeFeed::Parse("- my data t 7")->schema, "my data");  // a schema with spaces
  EXPECT_EQ(ChangeFeed::Parse("- x d 7 t 9")->schema, "x d 7");
  EXPECT_EQ(ChangeFeed::Parse("- x d 7 t 9")->key, ChangedKey::Tenant(9));
  EXPECT_FALSE(ChangeFeed::Parse("- public * 0")->key);  // anything
  for (const char* bad : {"", "0a1b", "0a1b public", "0a1b public d", "0a1b public x 1", "0a1b public d 1x",
                          "0a1b  d 1", "0a1b public d -"}) {
    EXPECT_FALSE(ChangeFeed::Parse(bad)) << bad;
  }
}

// The transaction count /metrics reports: one per statement outside a block, one per
// block, one per pipeline synced outside a block.
TEST_F(PostgresStoreTest, TransactionsEndedCountsWhatTheServerCommits) {
  auto db = postgres::Connection::Open(factory_.schema().url());
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE(db->ExecScript("CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  // The count is the process's: no other connection is open in this test.
  const auto counted = [&](const auto& step) {
    const std::uint64_t before = postgres::TransactionsEnded();
    step();
    return postgres::TransactionsEnded() - before;
  };
  std::vector<postgres::Params> batch(3);
  for (int i = 0; i < 3; ++i) batch[static_cast<size_t>(i)].BindInt(1, i + 10);
  // A statement's first use outside a block is two: its Parse, committed on its own, and its run.
  EXPECT_EQ(counted([&] { ASSERT_TRUE(db->Run("INSERT INTO t(k) VALUES (1)")); }), 2u);
  EXPECT_EQ(counted([&] { ASSERT_TRUE(db->Run("DELETE FROM t WHERE k = 1")); }), 2u);
  EXPECT_EQ(counted([&] { ASSERT_TRUE(db->Run("INSERT INTO t(k) VALUES (1)")); }), 1u);
  EXPECT_EQ(counted([&] { ASSERT_TRUE(db->RunEach("INSERT INTO t(k) VALUES ($1)", batch)); }), 2u);
  auto tx = postgres::Transaction::Begin(*db);
  ASSERT_TRUE(tx) << tx.error().message;
  const std::uint64_t inside_before = postgres::TransactionsEnded();
  ASSERT_TRUE(db->Run("INSERT INTO t(k) VALUES (2)"));
  ASSERT_TRUE(db->Run("INSERT INTO t(k) VALUES (3)"));
  for (auto& p : batch) p.BindInt(1, 20);
  batch.resize(1);
  ASSERT_TRUE(db->RunEach("INSERT INTO t(k) VALUES ($1)", batch));
  const std::uint64_t inside = postgres::TransactionsEnded() - inside_before;
  EXPECT_EQ(counted([&] { ASSERT_TRUE(tx->Commit()); }), 1u);
  EXPECT_EQ(inside, 0u);
  EXPECT_EQ(db->Exec("SELECT COUNT(*) FROM t").value()[0].Int(0), 7);
}

// A batch sent in one round trip (pipeline mode) reports its first failure and leaves the
// connection usable, outside pipeline mode, with the transaction rolled back.
TEST_F(PostgresStoreTest, AFailedBatchReportsItsFirstErrorAndLeavesTheConnectionUsable) {
  auto db = postgres::Connection::Open(factory_.schema().url());
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE(db->ExecScript("CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  std::vector<postgres::Params> batch(3);
  batch[0].BindInt(1, 1);
  batch[1].BindInt(1, 1);  // a duplicate key
  batch[2].BindInt(1, 2);
  {
    auto tx = postgres::Transaction::Begin(*db);
    ASSERT_TRUE(tx) << tx.error().message;
    auto sent = db->RunEach("INSERT INTO t(k) VALUES ($1)", batch);
    ASSERT_FALSE(sent);
    EXPECT_EQ(db->violation(), postgres::Violation::kUnique);
  }
  auto count = db->Exec("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count) << count.error().message;
  EXPECT_EQ((*count)[0].Int(0), 0);
  batch.erase(batch.begin() + 1);
  ASSERT_TRUE(db->RunEach("INSERT INTO t(k) VALUES ($1)", batch));
  EXPECT_EQ(db->Exec("SELECT COUNT(*) FROM t").value()[0].Int(0), 2);
}

// A server that ends every session (a restart, a failover) costs no failed call: the pool
// finds its idle connections closed and opens new ones.
TEST_F(PostgresStoreTest, ThePoolReconnectsAfterTheServerEndedItsSessions) {
  auto store = factory_.Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AddTenant(NewTenant("acme")));
  postgres::Connection& admin = factory_.schema().admin();
  const std::string others =
      " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
      "AND backend_type = 'client backend'";
  auto ended = admin.Exec("SELECT COUNT(pg_terminate_backend(pid))" + others);
  ASSERT_TRUE(ended) << ended.error().message;
  ASSERT_GE((*ended)[0].Int(0), 2);  // the pool's connection and the change listener
  // Terminating is a signal: wait, by asking the server, until those sessions are gone.
  std::int64_t left = -1;
  for (int i = 0; i < 100'000 && left != 0; ++i) left = admin.Exec("SELECT COUNT(*)" + others).value()[0].Int(0);
  ASSERT_EQ(left, 0);
  auto found = store->FindTenant("acme");
  EXPECT_TRUE(found) << found.error().message;
  EXPECT_TRUE(store->AddTenant(NewTenant("globex")));
}

TEST_F(PostgresStoreTest, AnUnreachableServerIsUnavailableWithoutItsPassword) {
  auto store = PostgresStore::Open("postgresql://provgate:hunter2@127.0.0.1:1/none?connect_timeout=2", 2,
                                   test_support::Box(), factory_.clock());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store.error().message.find("hunter2"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace provgate::store
