#include "service/queries.hpp"

#include <algorithm>

#include "core/lifecycle.hpp"

namespace provgate::service {
namespace {

Status CheckLimit(int limit, int max) {
  if (limit < 1 || limit > max) return Error::InvalidArgument("limit: must be between 1 and " + std::to_string(max));
  return Ok();
}

}  // namespace

Queries::Queries(store::Inventory& store, store::OperatorStore& operator_store, const Clock& clock,
                 std::optional<TenantScope> scope)
    : store_(store), operator_store_(operator_store), clock_(clock), scope_(std::move(scope)) {}

Result<std::optional<core::Tenant>> Queries::TenantFilter(const std::string& name) {
  if (name.empty()) {
    if (!scope_) return std::optional<core::Tenant>();
    PG_TRY(auto own, store_.GetTenant(scope_->id));
    return std::optional<core::Tenant>(std::move(own));
  }
  auto t = store_.FindTenant(name);
  if ((!t && t.error().code == ErrorCode::kNotFound) || (t && scope_ && t->id != scope_->id)) {
    return Error::NotFound("unknown tenant '" + name + "'");
  }
  if (!t) return t.error();
  return std::optional<core::Tenant>(std::move(*t));
}

Result<DevicePage> Queries::Devices(const DeviceListRequest& r) {
  PG_TRY_STATUS(CheckLimit(r.limit, kMaxPageSize));
  store::DeviceQuery q;
  PG_TRY(auto tenant, TenantFilter(r.tenant));
  if (tenant) q.tenant_id = tenant->id;
  if (!r.state.empty()) {
    auto state = core::ParseDeviceState(r.state);
    if (!state) return Error::InvalidArgument("state: must be one of stock, assigned, provisioned, expired, retired");
    q.state = *state;
  }
  if (!r.cursor.empty()) {
    auto mac = core::MacAddress::Parse(r.cursor);
    if (!mac) return Error::InvalidArgument("cursor: not a cursor of this listing");
    q.after_mac = mac->str();
  }
  if (r.vendor.size() > 64) return Error::InvalidArgument("vendor: longer than 64 characters");
  if (r.model.size() > 64) return Error::InvalidArgument("model: longer than 64 characters");
  q.vendor = r.vendor;
  q.model = r.model;
  q.locked = r.locked;
  q.seen_since = r.seen_since;
  q.seen_before = r.seen_before;
  q.limit = r.limit;
  q.now = ToUnix(clock_.Now());
  PG_TRY(auto rows, operator_store_.QueryDevices(q));
  std::vector<core::Tenant> tenants;
  if (tenant) {
    tenants.push_back(*tenant);
  } else {
    PG_TRY(tenants, store_.ListTenants());
  }
  DevicePage page;
  for (auto& row : rows) {
    row.device.state = core::EffectiveState(row.device, q.now);
    std::string name;
    for (const auto& t : tenants) {
      if (row.device.tenant_id && t.id == *row.device.tenant_id) name = t.name;
    }
    page.tenant_names.push_back(std::move(name));
  }
  if (static_cast<int>(rows.size()) == r.limit) page.next_cursor = rows.back().device.mac.str();
  page.devices = std::move(rows);
  return page;
}

Result<AuditPageReader> Queries::AuditPages(const AuditListRequest& r) {
  PG_TRY_STATUS(CheckLimit(r.limit, kMaxAuditPageSize));
  store::AuditQuery q;
  if (!r.device.empty()) {
    auto mac = core::MacAddress::Parse(r.device);
    if (!mac) return Error::InvalidArgument("device: not a MAC address");
    q.mac = mac->str();
  }
  PG_TRY(auto tenant, TenantFilter(r.tenant));
  if (tenant) q.tenant_id = tenant->id;
  if (!r.decision.empty() && r.decision != "allow" && r.decision != "deny" && r.decision != "info") {
    return Error::InvalidArgument("decision: must be one of allow, deny, info");
  }
  if (r.actor.size() > 128) return Error::InvalidArgument("actor: longer than 128 characters");
  if (r.since && r.until && *r.since >= *r.until) return Error::InvalidArgument("since: must be before until");
  if (r.cursor && *r.cursor < 1) return Error::InvalidArgument("cursor: not a cursor of this listing");
  q.actor = r.actor;
  q.decision = r.decision;
  q.since = r.since;
  q.until = r.until;
  q.before_id = r.cursor;
  return AuditPageReader(operator_store_, std::move(q), r.limit);
}

Result<std::vector<store::StoredAuditEvent>> AuditPageReader::Next() {
  if (done_) return std::vector<store::StoredAuditEvent>();
  query_.limit = std::min(remaining_, kAuditBatchSize);
  PG_TRY(auto batch, store_->QueryAudit(query_));
  remaining_ -= static_cast<int>(batch.size());
  if (static_cast<int>(batch.size()) < query_.limit) {
    done_ = true;  // the store has no more: the last page
  } else if (remaining_ == 0) {
    done_ = true;  // a full page: the next one starts below its last record
    next_cursor_ = batch.back().id;
  } else {
    query_.before_id = batch.back().id;
  }
  return batch;
}

}  // namespace provgate::service
