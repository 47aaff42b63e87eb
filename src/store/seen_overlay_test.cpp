#include "store/seen_overlay.hpp"

#include <gtest/gtest.h>

namespace provgate::store {
namespace {

std::shared_ptr<const core::Device> Device(std::int64_t id, std::string ip = "") {
  core::Device d;
  d.id = id;
  d.mac = core::MacAddress::Parse("001565aabbcc").value();
  d.last_seen_ip = std::move(ip);
  return std::make_shared<const core::Device>(std::move(d));
}

DeviceSeen Seen(std::int64_t id, std::string ip) {
  return DeviceSeen{id, 1700000000, std::move(ip), "Yealink SIP-T54W 96.86.0.100", "96.86.0.100"};
}

TEST(SeenOverlay, PendingUpdateIsOverlaidOnItsDeviceOnly) {
  SeenOverlay overlay;
  overlay.Committed({Seen(1, "192.0.2.7")});
  const auto device = Device(1);
  const auto overlaid = overlay.Apply(device);
  EXPECT_EQ(overlaid->last_seen_ip, "192.0.2.7");
  EXPECT_EQ(overlaid->firmware, "96.86.0.100");
  EXPECT_EQ(device->last_seen_ip, "");         // a copy, not the caller's device
  EXPECT_EQ(overlay.Apply(device), overlaid);  // the next request's: one copy shared
  const auto other = Device(2);
  EXPECT_EQ(overlay.Apply(other), other);  // another device: untouched, not copied
}

TEST(SeenOverlay, ADeviceThatAlreadySaysSoIsNotCopied) {
  SeenOverlay overlay;
  overlay.Committed({Seen(1, "192.0.2.7")});
  auto current = std::make_shared<core::Device>(*Device(1));
  ApplySeen(*current, Seen(1, "192.0.2.7"));
  const std::shared_ptr<const core::Device> device = current;
  EXPECT_EQ(overlay.Apply(device), device);
}

TEST(SeenOverlay, ACopiedUpdateIsKeptAWhileThenDropped) {
  ManualSteadyClock clock;
  SeenOverlay overlay(clock);
  overlay.Committed({Seen(1, "192.0.2.7")});
  overlay.Copied({Seen(1, "192.0.2.7")});
  const auto stale = Device(1, "read before the copy");
  EXPECT_EQ(overlay.Apply(stale)->last_seen_ip, "192.0.2.7");
  clock.Advance(SeenOverlay::kCopiedKeep);
  overlay.Copied({});
  EXPECT_EQ(overlay.Apply(stale)->last_seen_ip, "192.0.2.7");  // not more than kCopiedKeep yet
  clock.Advance(std::chrono::seconds(1));
  overlay.Copied({});  // each copy drops what expired
  EXPECT_EQ(overlay.Apply(stale), stale);
}

TEST(SeenOverlay, ALaterUpdateStaysPendingWhenAnEarlierOneIsCopied) {
  ManualSteadyClock clock;
  SeenOverlay overlay(clock);
  overlay.Committed({Seen(1, "192.0.2.7")});
  overlay.Committed({Seen(1, "198.51.100.4")});
  overlay.Copied({Seen(1, "192.0.2.7")});
  clock.Advance(SeenOverlay::kCopiedKeep + std::chrono::seconds(1));
  overlay.Copied({});
  EXPECT_EQ(overlay.Apply(Device(1))->last_seen_ip, "198.51.100.4");
}

}  // namespace
}  // namespace provgate::store
