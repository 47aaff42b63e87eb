// Lookups of a MAC or URL token that someone merely names: a request's digest or Basic
// user, its URL, an operator's command, an audit record being replayed. Always answered by
// the backend's data, never by a cache, so that a known device and an unknown name cost
// the same read (DESIGN invariant 2). CachedStore does not implement this role: passing the
// fleet cache where a named lookup is needed does not compile. Implementations are
// thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "core/mac_address.hpp"
#include "core/model.hpp"

namespace provgate::store {

class NamedReads {
 public:
  virtual ~NamedReads() = default;

  virtual Result<core::Device> FindDevice(const core::MacAddress& mac) = 0;  // kNotFound
  // kNotFound when no device has this URL token hash.
  virtual Result<core::Device> FindDeviceByToken(const std::string& token_hash) = 0;
  virtual Result<core::Tenant> GetTenant(std::int64_t id) = 0;  // kNotFound
};

}  // namespace provgate::store
