// The SQLite backend of store::OperatorStore: its own connection to the database that a
// SqliteStore opened (and migrated) before it. Every statement is a constant text with
// bound parameters; filters that may be absent are written `(?N IS NULL OR col = ?N)`.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "store/operator_store.hpp"
#include "store/sqlite/connection.hpp"

namespace provgate::store {

class SqliteOperatorStore final : public OperatorStore {
 public:
  // kFailedPrecondition when the database has not been migrated to the API-key schema
  // (open a SqliteStore on it first).
  static Result<std::unique_ptr<SqliteOperatorStore>> Open(const std::filesystem::path& db);

  Result<ApiKeyRecord> AddApiKey(const ApiKeyRecord& key) override;
  Result<ApiKeyRecord> FindApiKey(const std::string& prefix) override;
  Result<std::vector<ApiKeyRecord>> ListApiKeys(std::optional<std::int64_t> tenant_id) override;
  Status RevokeApiKey(const std::string& prefix, std::optional<std::int64_t> tenant_id, std::int64_t now) override;
  Status TouchApiKey(std::int64_t id, std::int64_t now) override;
  Result<std::vector<DeviceSummary>> QueryDevices(const DeviceQuery& query) override;
  Result<std::vector<StoredAuditEvent>> QueryAudit(const AuditQuery& query) override;
  Status Ping() override;

 private:
  explicit SqliteOperatorStore(sqlite::Connection db) : db_(std::move(db)) {}
  std::mutex mu_;
  sqlite::Connection db_;  // guarded by mu_
};

}  // namespace provgate::store
