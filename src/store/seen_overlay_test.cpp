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

TEST(CoalesceSeen, OneUpdatePerDeviceWithTheSameEffect) {
  std::vector<DeviceSeen> seen = {Seen(1, "192.0.2.1"), Seen(2, "198.51.100.1"), Seen(1, "192.0.2.2"),
                                  Seen(1, "192.0.2.3")};
  seen[0].firmware = "96.86.0.100";
  seen[2].firmware = "96.86.0.120";
  seen[3].firmware = "";  // this request's User-Agent named none: the recorded one stays
  seen[3].time += 5;
  const auto coalesced = CoalesceSeen(seen);
  ASSERT_EQ(coalesced.size(), 2u);
  EXPECT_EQ(coalesced[0], seen[1]);  // in the order of each device's last update
  EXPECT_EQ(coalesced[1].ip, "192.0.2.3");
  EXPECT_EQ(coalesced[1].time, seen[3].time);
  EXPECT_EQ(coalesced[1].firmware, "96.86.0.120");
  // Applied in one go, as one by one.
  for (std::int64_t id : {1, 2}) {
    core::Device one_by_one = *Device(id);
    one_by_one.firmware = "95.0.0.1";
    core::Device at_once = one_by_one;
    for (const auto& d : seen) {
      if (d.device_id == id) ApplySeen(one_by_one, d);
    }
    for (const auto& d : coalesced) {
      if (d.device_id == id) ApplySeen(at_once, d);
    }
    EXPECT_EQ(at_once.last_seen_ip, one_by_one.last_seen_ip);
    EXPECT_EQ(at_once.last_seen_at, one_by_one.last_seen_at);
    EXPECT_EQ(at_once.firmware, one_by_one.firmware);
  }
  EXPECT_TRUE(CoalesceSeen({}).empty());
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
