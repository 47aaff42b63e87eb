// The operator's inventory: tenants, devices and lines added, read, changed and removed by
// the CLI, the REST API and the domain services. Its reads are NamedReads (an operator
// names a MAC or a tenant; the answer comes from the data). Every write here changes
// ProvenReads::DataGeneration once committed. Implementations are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/mac_address.hpp"
#include "core/model.hpp"
#include "store/named_reads.hpp"

namespace provgate::store {

struct DeviceFilter {
  std::optional<std::int64_t> tenant_id;
  std::optional<core::DeviceState> state;
  bool with_own_vars_only = false;  // only devices with variables of their own
};

// A device and its lines, as added together by an inventory import.
struct DeviceWithLines {
  core::Device device;
  std::vector<core::Line> lines;  // device_id is filled in by the store
};

// The rows of an import one at a time (Inventory::ImportDeviceRows): the next row, nothing
// after the last, or an error that ends the import.
using DeviceRowSource = std::function<Result<std::optional<DeviceWithLines>>()>;

class Inventory : public virtual NamedReads {
 public:
  // Tenants. A tenant read whose stored source ranges do not parse is kInternal, naming the
  // tenant: a corrupt list never silently matches nothing.
  virtual Result<core::Tenant> AddTenant(const core::Tenant& t) = 0;     // kAlreadyExists on dup name
  virtual Result<core::Tenant> FindTenant(const std::string& name) = 0;  // kNotFound
  virtual Result<std::vector<core::Tenant>> ListTenants() = 0;
  // Addresses the tenant by id; kNotFound if absent, kAlreadyExists if the new name is taken.
  virtual Status UpdateTenant(const core::Tenant& t) = 0;

  // Devices. AddDevice fails with kAlreadyExists when the MAC is taken and kNotFound when
  // tenant_id names no tenant; it ignores d.id/created_at/updated_at and returns the stored
  // device with the assigned id and the store clock's timestamps. Vars must be a JSON object
  // (kInvalidArgument otherwise), here and for tenants.
  virtual Result<core::Device> AddDevice(const core::Device& d) = 0;
  virtual Result<std::vector<core::Device>> ListDevices(const DeviceFilter& filter) = 0;
  // The first-added device of each (vendor, model) of the tenant, retired ones left out,
  // ordered by vendor and model: what a lint renders without loading the whole fleet.
  virtual Result<std::vector<core::Device>> ListModelRepresentatives(std::int64_t tenant_id) = 0;
  // Addresses the device by id; keeps created_at, sets updated_at from the clock.
  // kNotFound if absent or if tenant_id names no tenant, kAlreadyExists if the MAC is taken.
  // Leaves the columns the server sets while serving (pin, lock, last seen) alone.
  virtual Status UpdateDevice(const core::Device& d) = 0;
  // Removes the device and its lines; kNotFound if absent.
  virtual Status RemoveDevice(const core::MacAddress& mac) = 0;
  // Writes the device row, including the columns the server sets while serving (pin, lock,
  // last seen), and replaces all of its lines, in one transaction (re-activation, purge):
  // either every old secret is gone or none is.
  virtual Status ReplaceDevice(const core::Device& d, const std::vector<core::Line>& lines) = 0;

  // Lines. Passwords cross this interface in clear and are sealed/opened inside the
  // backend with the master key, so ciphertext never leaves the store.
  // Insert or replace (device_id, index). kNotFound if the device does not exist,
  // kInvalidArgument for an index below 1 or a port outside 1-65535.
  virtual Status SetLine(const core::Line& line) = 0;
  // Ordered by index; empty when the device has no lines (or does not exist).
  virtual Result<std::vector<core::Line>> ListLines(std::int64_t device_id) = 0;
  virtual Status RemoveLine(std::int64_t device_id, int index) = 0;  // kNotFound if absent

  // Adds every device `next` yields, with its lines, in one transaction: all or nothing.
  // `next` is called inside the transaction, with the store's writer lock held, until it
  // yields nothing; so the rows need never be in memory together, but `next` must be quick
  // (no network I/O) and must not call the store. An error from `next` rolls everything back
  // and is returned. `progress` is called with the number of rows written so far (may be
  // empty).
  virtual Status ImportDeviceRows(const DeviceRowSource& next, const std::function<void(size_t)>& progress) = 0;
  // ImportDeviceRows of rows in memory.
  Status ImportDevices(const std::vector<DeviceWithLines>& rows, const std::function<void(size_t)>& progress) {
    size_t i = 0;
    return ImportDeviceRows(
        [&]() -> Result<std::optional<DeviceWithLines>> {
          if (i == rows.size()) return std::optional<DeviceWithLines>();
          return std::optional<DeviceWithLines>(rows[i++]);
        },
        progress);
  }

  // Schema version after migrations, for `provgate version` and tests.
  virtual Result<int> SchemaVersion() = 0;
};

}  // namespace provgate::store
