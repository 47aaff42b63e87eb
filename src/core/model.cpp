#include "core/model.hpp"

namespace provgate::core {

std::string_view DeviceStateName(DeviceState s) {
  switch (s) {
    case DeviceState::kStock: return "stock";
    case DeviceState::kAssigned: return "assigned";
    case DeviceState::kProvisioned: return "provisioned";
    case DeviceState::kExpired: return "expired";
    case DeviceState::kRetired: return "retired";
  }
  return "unknown";
}

Result<DeviceState> ParseDeviceState(std::string_view text) {
  for (auto s : {DeviceState::kStock, DeviceState::kAssigned, DeviceState::kProvisioned, DeviceState::kExpired,
                 DeviceState::kRetired}) {
    if (DeviceStateName(s) == text) return s;
  }
  return Error::InvalidArgument("unknown device state; expected stock, assigned, provisioned, expired or retired");
}

std::string_view PasswordPolicyName(PasswordPolicy p) {
  switch (p) {
    case PasswordPolicy::kDeliverOnce: return "deliver-once";
    case PasswordPolicy::kUntilConfirmed: return "until-confirmed";
    case PasswordPolicy::kAlways: return "always";
  }
  return "deliver-once";
}

Result<PasswordPolicy> ParsePasswordPolicy(std::string_view text) {
  for (auto p : {PasswordPolicy::kDeliverOnce, PasswordPolicy::kUntilConfirmed, PasswordPolicy::kAlways}) {
    if (PasswordPolicyName(p) == text) return p;
  }
  return Error::InvalidArgument("unknown password policy; expected deliver-once, until-confirmed or always");
}

std::string_view IdentityStrengthName(IdentityStrength s) {
  switch (s) {
    case IdentityStrength::kNone: return "none";
    case IdentityStrength::kIpRange: return "ip";
    case IdentityStrength::kDigest: return "digest";
    case IdentityStrength::kToken: return "token";
    case IdentityStrength::kClientCert: return "client-cert";
  }
  return "none";
}

Result<IdentityStrength> ParseIdentityStrength(std::string_view text) {
  for (auto s : {IdentityStrength::kIpRange, IdentityStrength::kDigest, IdentityStrength::kToken,
                 IdentityStrength::kClientCert}) {
    if (IdentityStrengthName(s) == text) return s;
  }
  return Error::InvalidArgument("unknown identity strength; expected client-cert, token, digest or ip");
}

std::string_view TransportName(Transport t) {
  switch (t) {
    case Transport::kUdp: return "udp";
    case Transport::kTcp: return "tcp";
    case Transport::kTls: return "tls";
  }
  return "udp";
}

Result<Transport> ParseTransport(std::string_view text) {
  for (auto t : {Transport::kUdp, Transport::kTcp, Transport::kTls}) {
    if (TransportName(t) == text) return t;
  }
  return Error::InvalidArgument("unknown transport; expected udp, tcp or tls");
}

}  // namespace provgate::core
