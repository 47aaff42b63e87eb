#include "core/lifecycle.hpp"

namespace provgate::core {

DeviceState EffectiveState(const Device& d, std::int64_t now) {
  if (d.state == DeviceState::kAssigned && d.window_expires && now >= *d.window_expires) {
    return DeviceState::kExpired;
  }
  return d.state;
}

std::int64_t ConfirmedDeliveryCutoff(const Tenant& t, std::int64_t now) {
  return t.confirm_grace_seconds == 0 ? now : now - t.confirm_grace_seconds;
}

}  // namespace provgate::core
