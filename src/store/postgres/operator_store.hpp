// The PostgreSQL backend of store::OperatorStore: a small pool of its own on the database
// that a PostgresStore opened (and migrated) before it. Every statement is a constant text
// with bound parameters; filters that may be absent are written `($N IS NULL OR col = $N)`.
#pragma once

#include <memory>
#include <string>

#include "store/operator_store.hpp"
#include "store/postgres/connection.hpp"

namespace provgate::store {

class PostgresOperatorStore final : public OperatorStore {
 public:
  // kFailedPrecondition when the database has not been migrated to the API-key schema
  // (open a PostgresStore on it first).
  static Result<std::unique_ptr<PostgresOperatorStore>> Open(const std::string& url, size_t pool_size);

  Result<ApiKeyRecord> AddApiKey(const ApiKeyRecord& key) override;
  Result<ApiKeyRecord> FindApiKey(const std::string& prefix) override;
  Result<std::vector<ApiKeyRecord>> ListApiKeys(std::optional<std::int64_t> tenant_id) override;
  Status RevokeApiKey(const std::string& prefix, std::optional<std::int64_t> tenant_id, std::int64_t now) override;
  Status TouchApiKey(std::int64_t id, std::int64_t now) override;
  Result<std::vector<DeviceSummary>> QueryDevices(const DeviceQuery& query) override;
  Result<std::vector<StoredAuditEvent>> QueryAudit(const AuditQuery& query) override;
  Status Ping() override;

 private:
  explicit PostgresOperatorStore(std::unique_ptr<postgres::Pool> pool) : pool_(std::move(pool)) {}
  std::unique_ptr<postgres::Pool> pool_;
};

}  // namespace provgate::store
