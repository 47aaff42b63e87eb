// Test helpers for the SQLite backend and what is built on it: a scratch directory, a fixed
// master key and the contract suite's factory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <memory>

#include "crypto/random.hpp"
#include "crypto/secret_box.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store_contract_test.hpp"

namespace provgate::store::test_support {

namespace fs = std::filesystem;

inline crypto::SecretBox Box(unsigned char fill = 0x5a) {
  std::array<unsigned char, crypto::SecretBox::kKeySize> key{};
  key.fill(fill);
  return crypto::SecretBox::FromKey(key);
}

// A fresh directory under the test temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::path(::testing::TempDir()) /
            ("provgate-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class SqliteFactory {
 public:
  SqliteFactory() { EXPECT_TRUE(crypto::InitCrypto()); }
  std::unique_ptr<Store> Create() {
    auto store = SqliteStore::Open(dir_.path() / "provgate.db", Box(), clock_);
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return nullptr;
    return std::move(*store);
  }
  ManualClock& clock() { return clock_; }
  // Raw SQL on the store's file through a connection of its own (foreign keys off, SQLite's
  // default), behind the store's back.
  Status Execute(const std::string& sql) {
    PG_TRY(auto db, sqlite::Connection::Open(dir_.path() / "provgate.db"));
    return db.Exec(sql.c_str());
  }
  // The backend answers its own proven reads and takes its own audit records.
  ProvenReads& ProvenOver(Store& backend) { return backend; }
  AuditSink& AuditOver(Store& backend) { return backend; }

 private:
  TempDir dir_;
  ManualClock clock_{FromUnix(contract::kStartUnix)};
};

}  // namespace provgate::store::test_support
