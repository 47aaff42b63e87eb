// The audit store of a server with a fleet cache: a backend's AuditStore whose committed
// last-seen values are also written into the cached devices (FleetCache::ApplySeen). Those
// writes do not change DataGeneration, or every minute of a device's life would empty the
// cache. Named lookups go to the backend.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/audit_sink.hpp"
#include "store/cached_store.hpp"

namespace provgate::store {

class CachedAuditStore final : public AuditStore {
 public:
  CachedAuditStore(AuditStore& inner, FleetCache& cache) : inner_(inner), cache_(cache) {}

  // Forwarded, then the batch's last-seen values are written into the cached devices.
  Status AppendAuditBatch(const std::vector<StoredAuditEvent>& events, const std::vector<DeviceSeen>& seen,
                          const std::optional<AuditCopyMark>& mark) override;

  Status AppendAudit(const StoredAuditEvent& e) override { return inner_.AppendAudit(e); }
  Result<std::optional<AuditCopyMark>> FindAuditCopyMark(const std::string& file) override {
    return inner_.FindAuditCopyMark(file);
  }
  Result<std::vector<StoredAuditEvent>> ListAudit(const std::string& mac, int limit) override {
    return inner_.ListAudit(mac, limit);
  }
  Result<core::Device> FindDevice(const core::MacAddress& mac) override { return inner_.FindDevice(mac); }
  Result<core::Device> FindDeviceByToken(const std::string& token_hash) override {
    return inner_.FindDeviceByToken(token_hash);
  }
  Result<core::Tenant> GetTenant(std::int64_t id) override { return inner_.GetTenant(id); }

 private:
  AuditStore& inner_;
  FleetCache& cache_;
};

}  // namespace provgate::store
