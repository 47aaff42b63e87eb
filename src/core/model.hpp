// The domain types. Plain values, no I/O; the store fills them, the pipeline and
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
#include "net/ip_address.hpp"

namespace provgate::core {

// Template variables of one layer (tenant, device, ...): a JSON object of scalars.
using Vars = nlohmann::json;

enum class DeviceState { kStock, kAssigned, kProvisioned, kExpired, kRetired };

std::string_view DeviceStateName(DeviceState s);
Result<DeviceState> ParseDeviceState(std::string_view text);

// How often a SIP password may leave the server (invariant 3, docs/security.md).
enum class PasswordPolicy {
  kDeliverOnce,     // exactly one response ever carries it; wiped after confirmation
  kUntilConfirmed,  // every response carries it until confirmation, then wiped
  kAlways,          // every response carries it; never wiped (devices that cannot keep one)
};
std::string_view PasswordPolicyName(PasswordPolicy p);
Result<PasswordPolicy> ParsePasswordPolicy(std::string_view text);

// How strongly a request proved which device it is (the identify stage), weakest first.
enum class IdentityStrength { kNone = 0, kIpRange = 1, kDigest = 2, kToken = 3, kClientCert = 4 };
std::string_view IdentityStrengthName(IdentityStrength s);  // none|ip|digest|token|client-cert
Result<IdentityStrength> ParseIdentityStrength(std::string_view text);

struct Tenant {
  std::int64_t id = 0;
  std::string name;  // unique, operator-chosen slug
  std::string display_name;
  int window_days = 14;  // provisioning window opened by assignment
  Vars vars = Vars::object();
  PasswordPolicy password_policy = PasswordPolicy::kDeliverOnce;
  // Confirmation that a delivered password arrived: 0 = the device's next fetch; otherwise
  // this many seconds after delivery (evaluated at the device's next request or by purge).
  int confirm_grace_seconds = 0;
  int password_length = 20;
  std::string password_alphabet;  // empty = crypto::kDefaultPasswordAlphabet
  int retention_days = 30;        // secrets of expired/retired devices are purged after this

  // Authentication policy.
  IdentityStrength min_strength = IdentityStrength::kClientCert;
  net::IpSet ip_ranges;           // when not empty, every request must come from one
  bool ip_as_identity = false;    // an IP range alone may identify a device (weakest)
  bool allow_plain_http = false;  // HTTP digest over plain HTTP listeners
  bool anomaly_lock = true;       // lock devices that move network or show up late
  int anomaly_prefix_v4 = 24;
  int anomaly_prefix_v6 = 64;
  int late_first_fetch_days = 7;  // first fetch this long after assignment locks (0 = off)
  // Lock a device whose own credential (certificate or URL token) asks for another
  // device's files: its key is in someone else's hands. Off: the request is refused and
  // alerted, the device keeps working.
  bool lock_on_misuse = false;
};

struct Device {
  std::int64_t id = 0;
  MacAddress mac = MacAddress::Zero();
  std::string vendor;  // vendor module name, e.g. "yealink"
  std::string model;   // e.g. "T54W"
  std::optional<std::int64_t> tenant_id;
  DeviceState state = DeviceState::kStock;
  std::optional<std::int64_t> window_opens;    // unix seconds
  std::optional<std::int64_t> window_expires;  // unix seconds
  std::string serial;
  Vars vars = Vars::object();
  std::string token_hash;                        // SHA-256 hex of the URL token; "" = none
  std::optional<std::int64_t> state_changed_at;  // unix seconds of the last transition
  // Secrets, clear only in memory; sealed at rest by the store.
  std::optional<std::string> config_key;  // vendor config-encryption key
  // When the device's first plain copy of an encrypted file was sent (the phone cannot
  // decrypt before it: KeyDelivery::kPriorPlainCopy, kKeyFile); nullopt until then, and again
  // whenever the key changes.
  std::optional<std::int64_t> config_key_delivered_at;
  // Per-device HTTP digest/basic password; the user name is always the MAC. There is no
  // tenant-wide digest credential: its holder could fetch any of the tenant's configs by
  // naming a MAC (invariant 1, docs/security.md).
  std::optional<std::string> digest_password;
  // The web UI's admin password provgate generated for this device (rendered as
  // `admin_password` into its device files unless a variable sets one); sealed at rest.
  std::optional<std::string> admin_password;
  // The end of an engineer's window (unix seconds): admin_password was shown to an operator,
  // and the device's first device-file fetch at or after this time replaces it with a new
  // one nobody sees. nullopt: no engineer knows the current one.
  std::optional<std::int64_t> engineer_window_ends;
  // Identity hygiene.
  std::string pin_spki;       // SHA-256 of the first authenticated certificate's public key
  std::string locked_reason;  // "" = not locked; a locked device gets nothing until unlocked
  // Last seen (recorded on device-file fetches).
  std::optional<std::int64_t> last_seen_at;
  std::string last_seen_ip;
  std::string last_user_agent;
  std::string firmware;
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
  // The claim that set delivered_at (store::NewClaimId), and whether its response may still
  // be unsent: true from the claim until its node releases it (store::DeviceWrites::
  // ReleaseClaim). Read from the store; never written from here.
  std::string claim;
  bool claim_in_flight = false;
};

// A softphone: its device layer sets the variable `softphone` to true (docs/portal.md). Its
// lines' credentials are revealed once in the portal instead of being fetched by a phone.
inline bool IsSoftphone(const Device& d) {
  if (!d.vars.is_object()) return false;
  const auto it = d.vars.find("softphone");
  return it != d.vars.end() && it->is_boolean() && it->get<bool>();
}

// Whether any of the lines holds a password.
inline bool AnyPassword(const std::vector<Line>& lines) {
  for (const auto& l : lines) {
    if (l.password) return true;
  }
  return false;
}

}  // namespace provgate::core
