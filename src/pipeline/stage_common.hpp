// What the pipeline's stage files share: the uniform refusal, tenant ranges, and the read of
// a device a request names. Below pipeline.hpp's Decide: nothing here decides an order.
#pragma once

#include <memory>
#include <string>

#include "audit/audit_log.hpp"
#include "core/mac_address.hpp"
#include "core/model.hpp"
#include "net/ip_address.hpp"
#include "pipeline/request.hpp"
#include "store/named_reads.hpp"
#include "store/proven_reads.hpp"

namespace provgate::pipeline {

// Records the refusal and returns the byte-identical 404 (DESIGN invariant 2).
DeviceResponse Deny(audit::AuditRecord& record, std::string reason);

// Whether `client` is inside the tenant's source ranges (parsed by the store when it read
// the tenant).
bool InTenantRanges(const core::Tenant& tenant, const net::IpAddress& client);

// The device of a MAC a request merely names (digest or Basic user, URL), or null when there
// is none. Always read from the store, so that a cached device and an unknown name cost the
// same read.
Result<std::shared_ptr<const core::Device>> FindNamed(store::NamedReads& from, const core::MacAddress& mac);
// The device of a MAC proven by a verified certificate, read through the fleet cache, or null
// when there is none.
Result<std::shared_ptr<const core::Device>> FindProven(store::ProvenReads& from, const core::MacAddress& mac);

}  // namespace provgate::pipeline
