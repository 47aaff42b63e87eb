// Test helpers for the PostgreSQL backend: a scratch schema per test on the server named by
// PROVGATE_TEST_PG_URL (scripts/pg-test-server.sh starts one), and the contract suite's
// factory. Without the variable every test that needs the server is skipped with a message
// saying so; scripts/test.sh always sets it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "crypto/random.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/test_support.hpp"
#include "store/store_contract_test.hpp"

namespace provgate::store::test_support {

inline constexpr const char* kPgUrlVariable = "PROVGATE_TEST_PG_URL";

// An empty schema of its own on the test server, dropped with everything in it on
// destruction; url() reaches it (search_path set), so a store opened there sees only it.
class PgScratchSchema {
 public:
  PgScratchSchema() {
    const char* base = std::getenv(kPgUrlVariable);
    if (base == nullptr || *base == '\0') return;
    static std::atomic<int> counter{0};
    name_ = "provgate_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    auto admin = postgres::Connection::Open(base);
    if (!admin) {
      ADD_FAILURE() << admin.error().message;
      return;
    }
    // The schema's name is ours (digits and letters), not a value from outside.
    if (auto r = admin->ExecScript("DROP SCHEMA IF EXISTS " + name_ + " CASCADE; CREATE SCHEMA " + name_); !r) {
      ADD_FAILURE() << r.error().message;
      return;
    }
    const std::string b = base;
    url_ = b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name_;
    admin_.emplace(std::move(*admin));
  }
  PgScratchSchema(const PgScratchSchema&) = delete;
  PgScratchSchema& operator=(const PgScratchSchema&) = delete;
  ~PgScratchSchema() {
    if (admin_) (void)admin_->ExecScript("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  }

  // Why the tests cannot run, or "" when they can.
  static std::string SkipReason() {
    const char* base = std::getenv(kPgUrlVariable);
    if (base != nullptr && *base != '\0') return "";
    return std::string(kPgUrlVariable) +
           " is not set: no PostgreSQL to test against (scripts/pg-test-server.sh run ctest ... starts one)";
  }
  const std::string& url() const { return url_; }
  postgres::Connection& admin() { return *admin_; }

 private:
  std::string name_;
  std::string url_;
  std::optional<postgres::Connection> admin_;
};

class PostgresFactory {
 public:
  PostgresFactory() { EXPECT_TRUE(crypto::InitCrypto()); }
  std::string SkipReason() const { return PgScratchSchema::SkipReason(); }
  std::unique_ptr<Store> Create() { return Open(); }
  // Another store on the same data: a second node.
  std::unique_ptr<PostgresStore> Open() {
    auto store = PostgresStore::Open(schema_.url(), 4, Box(), clock_);
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return nullptr;
    return std::move(*store);
  }
  ManualClock& clock() { return clock_; }
  // Raw SQL on the store's schema through a connection of its own, behind the store's back.
  Status Execute(const std::string& sql) {
    PG_TRY(auto db, postgres::Connection::Open(schema_.url()));
    return db.ExecScript(sql);
  }
  PgScratchSchema& schema() { return schema_; }
  ProvenReads& ProvenOver(Store& backend) { return backend; }
  AuditSink& AuditOver(Store& backend) { return backend; }

 private:
  PgScratchSchema schema_;
  ManualClock clock_{FromUnix(contract::kStartUnix)};
};

}  // namespace provgate::store::test_support
