#include "core/lifecycle.hpp"

#include <gtest/gtest.h>

namespace provgate::core {
namespace {

TEST(Lifecycle, AssignedDeviceExpiresExactlyAtWindowEnd) {
  Device d;
  d.state = DeviceState::kAssigned;
  d.window_expires = 1000;
  EXPECT_EQ(EffectiveState(d, 999), DeviceState::kAssigned);
  EXPECT_EQ(EffectiveState(d, 1000), DeviceState::kExpired);
}

TEST(Lifecycle, OnlyAssignedDevicesExpire) {
  for (auto s : {DeviceState::kStock, DeviceState::kProvisioned, DeviceState::kRetired}) {
    Device d;
    d.state = s;
    d.window_expires = 10;
    EXPECT_EQ(EffectiveState(d, 1000), s);
  }
}

TEST(Lifecycle, ConfirmationCutoffFollowsGrace) {
  Tenant t;
  EXPECT_EQ(ConfirmedDeliveryCutoff(t, 500), 500);
  t.confirm_grace_seconds = 300;
  EXPECT_EQ(ConfirmedDeliveryCutoff(t, 500), 200);
}

}  // namespace
}  // namespace provgate::core
