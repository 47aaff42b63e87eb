// Domain types of DESIGN.md. Plain values, no I/O; the store fills them, the pipeline and
// the domain services read them. Secrets never appear here in clear except in Line, where
// the password is decrypted only when a config that needs it is rendered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "core/mac_address.hpp"

namespace provgate::core {

// Template variables of one layer (tenant, device, ...): a JSON object of scalars.
using Vars = nlohmann::json;

enum class DeviceState { kStock, kAssigned, kProvisioned, kExpired, kRetired };

std::string_view DeviceStateName(DeviceState s);
Result<DeviceState> ParseDeviceState(std::string_view text);

// How often a SIP password may leave the server (DESIGN.md invariant 3).
enum class PasswordPolicy {
  kDeliverOnce,     // exactly one response ever carries it; wiped after confirmation
  kUntilConfirmed,  // every response carries it until confirmation, then wiped
  kAlways,          // every response carries it; never wiped (devices that cannot keep one)
};
std::string_view PasswordPolicyName(PasswordPolicy p);
Result<PasswordPolicy> ParsePasswordPolicy(std::string_view text);

struct Tenant {
  std::int64_t id = 0;
  std::string name;          // unique, operator-chosen slug
  std::string display_name;
  int window_days = 14;      // provisioning window opened by assignment
  Vars vars = Vars::object();
  PasswordPolicy password_policy = PasswordPolicy::kDeliverOnce;
  // Confirmation that a delivered password arrived: 0 = the device's next fetch; otherwise
  // this many seconds after delivery (evaluated at the device's next request or by purge).
  int confirm_grace_seconds = 0;
  int password_length = 20;
  std::string password_alphabet;  // empty = crypto::kDefaultPasswordAlphabet
  int retention_days = 30;        // secrets of expired/retired devices are purged after this
};

struct Device {
  std::int64_t id = 0;
  MacAddress mac = MacAddress::Zero();
  std::string vendor;        // vendor module name, e.g. "yealink"
  std::string model;         // e.g. "T54W"
  std::optional<std::int64_t> tenant_id;
  DeviceState state = DeviceState::kStock;
  std::optional<std::int64_t> window_opens;    // unix seconds
  std::optional<std::int64_t> window_expires;  // unix seconds
  std::string serial;
  Vars vars = Vars::object();
  std::string token_hash;                         // SHA-256 hex of the URL token; "" = none
  std::optional<std::int64_t> state_changed_at;   // unix seconds of the last transition
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

enum class Transport { kUdp, kTcp, kTls };
std::string_view TransportName(Transport t);
Result<Transport> ParseTransport(std::string_view text);

// A SIP account on a device; index is the phone's line/account number, starting at 1.
struct Line {
  std::int64_t device_id = 0;
  int index = 1;
  std::string display_name;
  std::string user;
  std::string auth_user;
  std::string registrar;
  int port = 5060;
  Transport transport = Transport::kUdp;
  // Clear text only in memory while rendering; at rest it is secretbox ciphertext.
  std::optional<std::string> password;
  std::optional<std::int64_t> delivered_at;  // first response that carried the password
};

}  // namespace provgate::core
