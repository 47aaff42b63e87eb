// The store interface. SQLite is the embedded backend; a PostgreSQL backend implements the
// same interface in a later wave, and both must pass the same contract tests
// (store/store_contract_test.hpp). Implementations are thread-safe: every method may be
// called concurrently from the listener's worker threads and from the CLI.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/model.hpp"
#include "defense/ban_store.hpp"

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

// The rows of an import one at a time (Store::ImportDeviceRows): the next row, nothing after
// the last, or an error that ends the import.
using DeviceRowSource = std::function<Result<std::optional<DeviceWithLines>>()>;

// One audit record as stored; `json` is the full record, the other columns are indexed
// copies for queries.
struct StoredAuditEvent {
  std::int64_t id = 0;
  std::int64_t time = 0;  // unix seconds
  std::string kind;       // "request" or "admin"
  std::string mac;        // may be empty
  // The tenant that held the device or object when the record was written (its "tenant_id").
  std::optional<std::int64_t> tenant_id;
  std::string decision;   // allow | deny | info
  std::string reason;
  std::string json;
};

// How far the server's audit file is copied into the store (kept by audit::AuditLog, which
// copies the server's records in batches after their file commit). Each record the server
// writes carries its run (one per server start) and a sequence number; every record of
// `run` up to `seq` is in the store, and the first record after those starts at or after
// byte `offset` of `file`. After a crash the run's later records are copied from the file.
struct AuditCopyMark {
  std::string file;
  std::int64_t offset = 0;
  std::string run;
  std::int64_t seq = 0;
};

// What an answered device request records on its device (`device show`, anomaly locks).
struct DeviceSeen {
  std::int64_t device_id = 0;
  std::int64_t time = 0;  // unix seconds
  std::string ip;
  std::string user_agent;
  std::string firmware;   // "" when the User-Agent did not say

  bool operator==(const DeviceSeen&) const = default;
};

// Writes a last-seen update into a device as Store::AppendAuditBatch writes it into the
// store: an empty firmware keeps the recorded one.
inline void ApplySeen(core::Device& device, const DeviceSeen& seen) {
  device.last_seen_at = seen.time;
  device.last_seen_ip = seen.ip;
  device.last_user_agent = seen.user_agent;
  if (!seen.firmware.empty()) device.firmware = seen.firmware;
}
// Whether ApplySeen would change anything.
inline bool SeenChanges(const core::Device& device, const DeviceSeen& seen) {
  return device.last_seen_at != seen.time || device.last_seen_ip != seen.ip ||
         device.last_user_agent != seen.user_agent ||
         (!seen.firmware.empty() && device.firmware != seen.firmware);
}

// Bans (defense::BanStore) live in the store so they survive restarts and are shared by nodes.
class Store : public defense::BanStore {
 public:
  ~Store() override = default;

  // Tenants.
  virtual Result<core::Tenant> AddTenant(const core::Tenant& t) = 0;  // kAlreadyExists on dup name
  virtual Result<core::Tenant> GetTenant(std::int64_t id) = 0;
  virtual Result<core::Tenant> FindTenant(const std::string& name) = 0;  // kNotFound
  virtual Result<std::vector<core::Tenant>> ListTenants() = 0;
  // Addresses the tenant by id; kNotFound if absent, kAlreadyExists if the new name is taken.
  virtual Status UpdateTenant(const core::Tenant& t) = 0;

  // Devices. AddDevice fails with kAlreadyExists when the MAC is taken and kNotFound when
  // tenant_id names no tenant; it ignores d.id/created_at/updated_at and returns the stored
  // device with the assigned id and the store clock's timestamps. Vars must be a JSON object
  // (kInvalidArgument otherwise), here and for tenants.
  virtual Result<core::Device> AddDevice(const core::Device& d) = 0;
  virtual Result<core::Device> FindDevice(const core::MacAddress& mac) = 0;  // kNotFound
  // GetTenant and FindDevice for a caller that only reads the result: a store that keeps
  // entries in memory (CachedStore) shares them instead of copying; by default, one copy.
  virtual Result<std::shared_ptr<const core::Tenant>> GetTenantShared(std::int64_t id) {
    PG_TRY(auto tenant, GetTenant(id));
    return std::make_shared<const core::Tenant>(std::move(tenant));
  }
  virtual Result<std::shared_ptr<const core::Device>> FindDeviceShared(const core::MacAddress& mac) {
    PG_TRY(auto device, FindDevice(mac));
    return std::make_shared<const core::Device>(std::move(device));
  }
  virtual Result<std::vector<core::Device>> ListDevices(const DeviceFilter& filter) = 0;
  // The first-added device of each (vendor, model) of the tenant, retired ones left out,
  // ordered by vendor and model: what a lint renders without loading the whole fleet.
  virtual Result<std::vector<core::Device>> ListModelRepresentatives(std::int64_t tenant_id) = 0;
  // Addresses the device by id; keeps created_at, sets updated_at from the clock.
  // kNotFound if absent or if tenant_id names no tenant, kAlreadyExists if the MAC is taken.
  virtual Status UpdateDevice(const core::Device& d) = 0;
  // Removes the device and its lines; kNotFound if absent.
  virtual Status RemoveDevice(const core::MacAddress& mac) = 0;

  // Lines. Passwords cross this interface in clear and are sealed/opened inside the
  // backend with the master key, so ciphertext never leaves the store.
  // Insert or replace (device_id, index). kNotFound if the device does not exist,
  // kInvalidArgument for an index below 1 or a port outside 1-65535.
  virtual Status SetLine(const core::Line& line) = 0;
  // Ordered by index; empty when the device has no lines (or does not exist).
  virtual Result<std::vector<core::Line>> ListLines(std::int64_t device_id) = 0;
  virtual Status RemoveLine(std::int64_t device_id, int index) = 0;  // kNotFound if absent

  // Lifecycle and credential hygiene.
  // Atomically marks the stored, not yet delivered passwords of the device's lines `indexes`
  // as delivered at `now` and returns those lines with their clear passwords (lines outside
  // `indexes` are untouched: a file that does not carry a line's password must not spend
  // it). Concurrent callers (threads or processes) never receive the same line: this is what
  // makes deliver-once exactly once.
  virtual Result<std::vector<core::Line>> ClaimPasswords(std::int64_t device_id,
                                                         const std::vector<int>& indexes,
                                                         std::int64_t now) = 0;
  // Deletes the ciphertext of passwords delivered at or before `delivered_at_or_before`;
  // returns the indexes of the lines whose password was wiped.
  virtual Result<std::vector<int>> WipeDeliveredPasswords(std::int64_t device_id,
                                                          std::int64_t delivered_at_or_before) = 0;
  // Compare-and-set of the lifecycle state (also stamps state_changed_at); false when the
  // device was no longer in `from`, so only one of several racing requests makes a transition.
  virtual Result<bool> TransitionState(std::int64_t device_id, core::DeviceState from,
                                       core::DeviceState to, std::int64_t now) = 0;
  // Writes the device row, including the columns the server sets while serving (pin, lock,
  // last seen), and replaces all of its lines, in one transaction (re-activation, purge):
  // either every old secret is gone or none is. UpdateDevice leaves those server columns alone.
  virtual Status ReplaceDevice(const core::Device& d, const std::vector<core::Line>& lines) = 0;
  // Adds every device `next` yields, with its lines, in one transaction: all or nothing.
  // `next` is called inside the transaction, with the store's writer lock held, until it
  // yields nothing; so the rows need never be in memory together, but `next` must be quick
  // (no network I/O) and must not call the store. An error from `next` rolls everything back
  // and is returned. `progress` is called with the number of rows written so far (may be
  // empty).
  virtual Status ImportDeviceRows(const DeviceRowSource& next,
                                  const std::function<void(size_t)>& progress) = 0;
  // ImportDeviceRows of rows in memory.
  Status ImportDevices(const std::vector<DeviceWithLines>& rows,
                       const std::function<void(size_t)>& progress) {
    size_t i = 0;
    return ImportDeviceRows(
        [&]() -> Result<std::optional<DeviceWithLines>> {
          if (i == rows.size()) return std::optional<DeviceWithLines>();
          return std::optional<DeviceWithLines>(rows[i++]);
        },
        progress);
  }
  // Targeted updates from the request path: they touch only their own columns, so they never
  // undo a concurrent state transition or password claim.
  // Sets the certificate pin only if none is recorded; false when another pin is already set.
  virtual Result<bool> PinDevice(std::int64_t device_id, const std::string& spki_sha256) = 0;
  // Locks (reason non-empty) or unlocks (reason empty) a device.
  virtual Status LockDevice(std::int64_t device_id, const std::string& reason) = 0;
  // Forgets the certificate pin (the next authenticated fetch pins again).
  virtual Status ClearPin(std::int64_t device_id) = 0;
  // Records that the device's first plain copy of an encrypted file was sent (core::Device::
  // config_key_delivered_at), only if none was recorded; false when another request
  // recorded it first.
  virtual Result<bool> MarkConfigKeyDelivered(std::int64_t device_id, std::int64_t now) = 0;
  // Undoes what ClaimPasswords(device_id, lines, spent_at) and, with `config_key`,
  // MarkConfigKeyDelivered(device_id, spent_at) recorded, for a response that never left
  // (its audit record could not be committed): those passwords count as undelivered again
  // and the key's plain copy as unsent, in one transaction. What changed since stays: a
  // password wiped or claimed at another time, a key marked at another time.
  virtual Status GiveBackUndelivered(std::int64_t device_id, const std::vector<int>& lines,
                                     std::int64_t spent_at, bool config_key) = 0;
  // kNotFound when no device has this URL token hash.
  virtual Result<core::Device> FindDeviceByToken(const std::string& token_hash) = 0;

  // Audit trail; append-only.
  virtual Status AppendAudit(const StoredAuditEvent& e) = 0;
  // One transaction for a batch of the audit committer: the events, and the last-seen
  // columns of the devices the batch's requests were answered for (for a device listed
  // twice the later entry wins; an empty firmware keeps the recorded one; unknown ids are
  // skipped). The seen updates touch only their own columns, like the targeted updates above.
  // `mark`, when given, is recorded in the same transaction.
  virtual Status AppendAuditBatch(const std::vector<StoredAuditEvent>& events,
                                  const std::vector<DeviceSeen>& seen,
                                  const std::optional<AuditCopyMark>& mark) = 0;
  virtual Result<std::optional<AuditCopyMark>> FindAuditCopyMark(const std::string& file) = 0;
  // Newest first (append order, not `time`), at most `limit` (> 0, else kInvalidArgument)
  // events. An empty mac lists events of every device.
  virtual Result<std::vector<StoredAuditEvent>> ListAudit(const std::string& mac, int limit) = 0;

  // Schema version after migrations, for `provgate version` and tests.
  virtual Result<int> SchemaVersion() = 0;

  // A number that changes after every committed write to tenants, devices or lines made
  // through a Store by any process using the same data (SQLite: every provgate process on
  // the host; a backend shared by several nodes notifies them), and after a migration.
  // It may also change after a write that failed or changed nothing; it does not change for
  // reads, audit records with their last-seen values (AppendAuditBatch), or bans. Cheap,
  // with no round trip to the data: a cache compares it with the value it read before
  // filling an entry (CachedStore).
  virtual std::uint64_t DataGeneration() = 0;
};

}  // namespace provgate::store
