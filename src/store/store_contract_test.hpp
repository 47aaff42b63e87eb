// Contract tests every store backend must pass, one suite per concern:
//
//   StoreContract        the backend: every role (ProvenReads, NamedReads, DeviceWrites,
//                        AuditSink, Inventory, defense::BanStore); a test of one role calls
//                        the backend through that role, a test of how roles meet through
//                        the whole Store
//   ProvenReadsContract  the proven-read role, through the backend itself and through
//                        whatever answers it in front of the backend (the fleet cache)
//
// A backend's test file defines a factory and instantiates the suites:
//
//   struct MyFactory {
//     std::unique_ptr<Store> Create();  // a fresh, empty store stamping with clock()
//     ManualClock& clock();
//     // ProvenReadsContract only: what answers the proven reads over `backend`, and the
//     // audit sink whose last-seen writes those reads must see.
//     ProvenReads& ProvenOver(Store& backend);
//     AuditSink& AuditOver(Store& backend);
//     // Optional: why the backend cannot be tested here ("" when it can); the suites'
//     // tests are skipped with that message.
//     std::string SkipReason();
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreContract, ::testing::Types<MyFactory>);
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, ProvenReadsContract, ::testing::Types<MyFactory>);
//
// The factory is default-constructed per test and outlives the store it creates, so it can
// own a temporary directory or a scratch database schema. These are type-parameterised
// suites, so the header may be included by several test files of one binary.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "base/clock.hpp"
#include "net/ip_address.hpp"
#include "store/store.hpp"

namespace provgate::store::contract {

inline constexpr std::int64_t kStartUnix = 1'790'000'000;

inline core::MacAddress Mac(std::string_view text) { return core::MacAddress::Parse(text).value(); }

inline core::Tenant NewTenant(std::string name) {
  core::Tenant t;
  t.name = std::move(name);
  t.display_name = "Display " + t.name;
  t.window_days = 7;
  t.vars = {{"timezone", "Europe/Berlin"}, {"ntp", "pool.ntp.org"}};
  return t;
}

inline core::Device NewDevice(std::string_view mac, std::optional<std::int64_t> tenant_id = {},
                              core::DeviceState state = core::DeviceState::kStock) {
  // Device has no default constructor (MacAddress has none), so every field is spelled out.
  return core::Device{.id = 0,
                      .mac = Mac(mac),
                      .vendor = "yealink",
                      .model = "T54W",
                      .tenant_id = tenant_id,
                      .state = state,
                      .window_opens = std::nullopt,
                      .window_expires = std::nullopt,
                      .serial = "SN-" + std::string(mac),
                      .vars = {{"label", "desk"}, {"volume", 5}},
                      .created_at = 0,
                      .updated_at = 0};
}

inline core::Line NewLine(std::int64_t device_id, int index, std::optional<std::string> password) {
  core::Line l;
  l.device_id = device_id;
  l.index = index;
  l.display_name = "Line " + std::to_string(index);
  l.user = "10" + std::to_string(index);
  l.auth_user = "auth10" + std::to_string(index);
  l.registrar = "sip.example.net";
  l.port = 5061;
  l.transport = core::Transport::kTls;
  l.password = std::move(password);
  return l;
}

// A factory whose backend may be absent (a server the test environment did not start) has
// SkipReason(): non-empty, the suite's tests are skipped with that message.
template <class Factory>
void SkipWithoutBackend(Factory& factory) {
  if constexpr (requires { factory.SkipReason(); }) {
    if (const std::string why = factory.SkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
}

template <class Factory>
class StoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    SkipWithoutBackend(factory_);
    if (IsSkipped()) return;
    factory_.clock().Set(FromUnix(kStartUnix));
    store_ = factory_.Create();
    ASSERT_NE(store_, nullptr);
  }

  Store& store() { return *store_; }
  // The same backend through each of its roles: a test says which contract it covers.
  ProvenReads& proven() { return *store_; }
  NamedReads& named() { return *store_; }
  DeviceWrites& writes() { return *store_; }
  AuditSink& audit() { return *store_; }
  Inventory& inventory() { return *store_; }
  defense::BanStore& bans() { return *store_; }
  ManualClock& clock() { return factory_.clock(); }

  Factory factory_;
  std::unique_ptr<Store> store_;  // declared after factory_: destroyed first
};

TYPED_TEST_SUITE_P(StoreContract);

TYPED_TEST_P(StoreContract, SchemaVersionIsPositive) {
  auto v = this->inventory().SchemaVersion();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_GE(*v, 1);
}

TYPED_TEST_P(StoreContract, TenantRoundTripsByIdAndName) {
  auto added = this->inventory().AddTenant(NewTenant("acme"));
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_GT(added->id, 0);
  for (auto got : {this->named().GetTenant(added->id), this->inventory().FindTenant("acme")}) {
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->id, added->id);
    EXPECT_EQ(got->name, "acme");
    EXPECT_EQ(got->display_name, "Display acme");
    EXPECT_EQ(got->window_days, 7);
    EXPECT_EQ(got->vars, NewTenant("acme").vars);
  }
}

TYPED_TEST_P(StoreContract, DuplicateTenantNameIsAlreadyExists) {
  ASSERT_TRUE(this->inventory().AddTenant(NewTenant("acme")));
  auto dup = this->inventory().AddTenant(NewTenant("acme"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(dup.error().message.find("acme"), std::string::npos) << dup.error().message;
}

TYPED_TEST_P(StoreContract, UnknownTenantIsNotFound) {
  EXPECT_EQ(this->named().GetTenant(42).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->inventory().FindTenant("nobody").error().code, ErrorCode::kNotFound);
  auto t = NewTenant("ghost");
  t.id = 42;
  EXPECT_EQ(this->inventory().UpdateTenant(t).error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreContract, UpdateAndListTenants) {
  auto a = this->inventory().AddTenant(NewTenant("beta")).value();
  ASSERT_TRUE(this->inventory().AddTenant(NewTenant("alpha")));
  a.display_name = "Beta GmbH";
  a.window_days = 30;
  a.vars = {{"timezone", "UTC"}};
  ASSERT_TRUE(this->inventory().UpdateTenant(a));
  auto got = this->named().GetTenant(a.id).value();
  EXPECT_EQ(got.display_name, "Beta GmbH");
  EXPECT_EQ(got.window_days, 30);
  EXPECT_EQ(got.vars, a.vars);

  a.name = "alpha";  // taken
  EXPECT_EQ(this->inventory().UpdateTenant(a).error().code, ErrorCode::kAlreadyExists);

  auto all = this->inventory().ListTenants().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "alpha");
  EXPECT_EQ(all[1].name, "beta");
}

TYPED_TEST_P(StoreContract, VarsMustBeAnObject) {
  auto t = NewTenant("acme");
  t.vars = nlohmann::json::array({1, 2});
  EXPECT_EQ(this->inventory().AddTenant(t).error().code, ErrorCode::kInvalidArgument);
  auto d = NewDevice("001565aabbcc");
  d.vars = "text";
  EXPECT_EQ(this->inventory().AddDevice(d).error().code, ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(StoreContract, DeviceRoundTripsAllFields) {
  auto tenant = this->inventory().AddTenant(NewTenant("acme")).value();
  auto d = NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned);
  d.window_opens = kStartUnix;
  d.window_expires = kStartUnix + 14 * 86400;
  auto added = this->inventory().AddDevice(d);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_GT(added->id, 0);
  EXPECT_EQ(added->created_at, kStartUnix);
  EXPECT_EQ(added->updated_at, kStartUnix);

  auto got = this->named().FindDevice(Mac("00:15:65:AA:BB:CC"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->id, added->id);
  EXPECT_EQ(got->mac.str(), "001565aabbcc");
  EXPECT_EQ(got->vendor, "yealink");
  EXPECT_EQ(got->model, "T54W");
  EXPECT_EQ(got->tenant_id, tenant.id);
  EXPECT_EQ(got->state, core::DeviceState::kAssigned);
  EXPECT_EQ(got->window_opens, d.window_opens);
  EXPECT_EQ(got->window_expires, d.window_expires);
  EXPECT_EQ(got->serial, "SN-001565aabbcc");
  EXPECT_EQ(got->vars, d.vars);
  EXPECT_EQ(got->created_at, kStartUnix);
  EXPECT_EQ(got->updated_at, kStartUnix);
}

TYPED_TEST_P(StoreContract, ClaimSpendsOnlyTheNamedLines) {
  auto& s = this->store();
  auto tenant = s.AddTenant(NewTenant("acme")).value();
  auto device = s.AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 1, "secret-1")));
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 2, "secret-2")));
  EXPECT_TRUE(s.ClaimPasswords(device.id, {}, kStartUnix, "c").value().empty());
  auto claimed = s.ClaimPasswords(device.id, {2}, kStartUnix, "c").value();
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].index, 2);
  EXPECT_EQ(claimed[0].password, "secret-2");
  const auto lines = s.ListLines(device.id).value();
  EXPECT_FALSE(lines.at(0).delivered_at);  // line 1 was not named: still undelivered
  EXPECT_EQ(lines.at(1).delivered_at, kStartUnix);
  EXPECT_TRUE(s.ClaimPasswords(device.id, {2}, kStartUnix + 1, "c").value().empty());  // once only
}

// An assigned device of tenant "acme" with config key "key-1" and lines 1..`lines`, whose
// passwords are "secret-<index>".
inline core::Device AssignedDeviceWithKeyAndLines(Store& s, int lines) {
  const auto tenant = s.AddTenant(NewTenant("acme")).value();
  auto device = s.AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  device.config_key = "key-1";
  EXPECT_TRUE(s.UpdateDevice(device));
  for (int i = 1; i <= lines; ++i) EXPECT_TRUE(s.SetLine(NewLine(device.id, i, "secret-" + std::to_string(i))));
  return device;
}

// A response that never left gives back what its claim spent, and only that.
TYPED_TEST_P(StoreContract, GiveBackUndoesOnlyTheClaimAndMarkOfThatResponse) {
  auto& s = this->store();
  const auto device = AssignedDeviceWithKeyAndLines(s, 4);
  ASSERT_EQ(s.ClaimPasswords(device.id, {1}, kStartUnix, "earlier").value().size(), 1u);
  ASSERT_EQ(s.ClaimPasswords(device.id, {2, 3}, kStartUnix + 5, "failed").value().size(), 2u);
  ASSERT_EQ(s.ClaimPasswords(device.id, {4}, kStartUnix + 5, "same-second").value().size(), 1u);
  ASSERT_TRUE(s.MarkConfigKeyDelivered(device.id, kStartUnix + 5, "failed").value());
  ASSERT_TRUE(s.ReleaseClaim(device.id, "earlier", 1).value());
  ASSERT_EQ(s.WipeDeliveredPasswords(device.id, kStartUnix).value(), std::vector<int>{1});

  EXPECT_TRUE(s.GiveBackUndelivered(device.id, "no-such-claim").value().empty());
  const auto given = s.GiveBackUndelivered(device.id, "failed").value();
  EXPECT_EQ(given.lines, (std::vector<int>{2, 3}));
  EXPECT_TRUE(given.config_key);
  const auto lines = s.ListLines(device.id).value();
  EXPECT_EQ(lines.at(0).delivered_at, kStartUnix);  // another claim, wiped: stays
  EXPECT_FALSE(lines.at(0).password);
  EXPECT_FALSE(lines.at(1).delivered_at);  // given back
  EXPECT_FALSE(lines.at(2).delivered_at);
  EXPECT_EQ(lines.at(3).delivered_at, kStartUnix + 5);  // claimed in the same second by another request: stays
  EXPECT_FALSE(s.FindDevice(device.mac).value().config_key_delivered_at);
  // Trying again finds nothing: a retried give-back is harmless.
  EXPECT_TRUE(s.GiveBackUndelivered(device.id, "failed").value().empty());
  // Claimable again, exactly once; a late give-back of the failed claim leaves the new one.
  EXPECT_EQ(s.ClaimPasswords(device.id, {2}, kStartUnix + 5, "next").value().at(0).password, "secret-2");
  EXPECT_TRUE(s.MarkConfigKeyDelivered(device.id, kStartUnix + 5, "next").value());
  EXPECT_TRUE(s.GiveBackUndelivered(device.id, "failed").value().empty());
  EXPECT_EQ(s.ListLines(device.id).value().at(1).delivered_at, kStartUnix + 5);
  EXPECT_EQ(s.FindDevice(device.mac).value().config_key_delivered_at, kStartUnix + 5);
  // A wiped password is not given back (its ciphertext is gone).
  ASSERT_TRUE(s.ReleaseClaim(device.id, "next", 1).value());
  ASSERT_FALSE(s.WipeDeliveredPasswords(device.id, kStartUnix + 5).value().empty());
  const auto after_wipe = s.GiveBackUndelivered(device.id, "next").value();
  EXPECT_TRUE(after_wipe.lines.empty());
  EXPECT_TRUE(after_wipe.config_key);
}

// A claim is released only whole: a line given a new password between the claim and the
// release makes the release fail, so the old password does not leave with the response.
TYPED_TEST_P(StoreContract, AClaimIsReleasedOnlyWithEveryLineStillInFlight) {
  auto& s = this->store();
  const auto device = AssignedDeviceWithKeyAndLines(s, 3);
  ASSERT_EQ(s.ClaimPasswords(device.id, {1, 2}, kStartUnix, "both").value().size(), 2u);
  EXPECT_FALSE(s.ReleaseClaim(device.id, "both", 3).value());  // it took two
  ASSERT_TRUE(s.ReleaseClaim(device.id, "both", 2).value());
  auto lines = s.ListLines(device.id).value();
  EXPECT_FALSE(lines.at(0).claim_in_flight);
  EXPECT_FALSE(lines.at(1).claim_in_flight);

  ASSERT_EQ(s.ClaimPasswords(device.id, {3}, kStartUnix, "edited").value().size(), 1u);
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 1, "renewed-1")));
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 2, "renewed-2")));
  ASSERT_EQ(s.ClaimPasswords(device.id, {1, 2}, kStartUnix + 1, "raced").value().size(), 2u);
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 2, "replaced-2")));  // by an operator, meanwhile
  EXPECT_FALSE(s.ReleaseClaim(device.id, "raced", 2).value());
  // Its node gives back what it claimed: line 1 is deliverable again, line 2 has its new password.
  const auto given = s.GiveBackUndelivered(device.id, "raced").value();
  EXPECT_EQ(given.lines, std::vector<int>{1});
  lines = s.ListLines(device.id).value();
  EXPECT_FALSE(lines.at(0).delivered_at);
  EXPECT_FALSE(lines.at(0).claim_in_flight);
  EXPECT_EQ(lines.at(1).password, "replaced-2");
  EXPECT_FALSE(lines.at(1).delivered_at);
  EXPECT_TRUE(lines.at(2).claim_in_flight);  // another claim, untouched
  ASSERT_TRUE(s.ReleaseClaim(device.id, "edited", 1).value());
}

// A claim is in flight until its node releases it: no wipe confirms it meanwhile, and a claim
// its node never releases is given back once old enough, by anyone; a release and that
// give-back exclude each other.
TYPED_TEST_P(StoreContract, AClaimInFlightIsNeverWipedAndIsReleasedOrGivenBackOnce) {
  auto& s = this->store();
  const auto device = AssignedDeviceWithKeyAndLines(s, 3);
  EXPECT_FALSE(s.ListLines(device.id).value().at(0).claim_in_flight);
  ASSERT_EQ(s.ClaimPasswords(device.id, {1}, kStartUnix, "sent").value().size(), 1u);
  ASSERT_EQ(s.ClaimPasswords(device.id, {2, 3}, kStartUnix, "cut-off").value().size(), 2u);
  auto lines = s.ListLines(device.id).value();
  EXPECT_EQ(lines.at(0).claim, "sent");
  EXPECT_TRUE(lines.at(0).claim_in_flight);
  EXPECT_EQ(lines.at(1).claim, "cut-off");
  EXPECT_TRUE(s.WipeDeliveredPasswords(device.id, kStartUnix + 100).value().empty());

  EXPECT_FALSE(s.ReleaseClaim(device.id, "no-such-claim", 1).value());
  ASSERT_TRUE(s.ReleaseClaim(device.id, "sent", 1).value());
  EXPECT_FALSE(s.ReleaseClaim(device.id, "sent", 1).value());  // once
  EXPECT_FALSE(s.ListLines(device.id).value().at(0).claim_in_flight);
  // Too young, or released: not abandoned.
  EXPECT_TRUE(s.GiveBackAbandonedClaim(device.id, "cut-off", kStartUnix).value().empty());
  EXPECT_TRUE(s.GiveBackAbandonedClaim(device.id, "sent", kStartUnix + 100).value().empty());
  ASSERT_TRUE(s.MarkConfigKeyDelivered(device.id, kStartUnix, "cut-off").value());
  const auto given = s.GiveBackAbandonedClaim(device.id, "cut-off", kStartUnix + 1).value();
  EXPECT_EQ(given.lines, (std::vector<int>{2, 3}));
  EXPECT_TRUE(given.config_key);  // the plain copy of the same response never left either
  EXPECT_FALSE(s.FindDevice(device.mac).value().config_key_delivered_at);
  lines = s.ListLines(device.id).value();
  EXPECT_FALSE(lines.at(1).delivered_at);
  EXPECT_FALSE(lines.at(1).claim_in_flight);
  EXPECT_EQ(lines.at(2).password, "secret-3");
  // Its node learns of it when it tries to release: its response must not leave.
  EXPECT_FALSE(s.ReleaseClaim(device.id, "cut-off", 2).value());
  EXPECT_EQ(s.WipeDeliveredPasswords(device.id, kStartUnix).value(), std::vector<int>{1});
  // An operator's new password is undelivered and not in flight, whatever was claimed before.
  ASSERT_EQ(s.ClaimPasswords(device.id, {2}, kStartUnix + 2, "edited").value().size(), 1u);
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 2, "replaced-2")));
  lines = s.ListLines(device.id).value();
  EXPECT_FALSE(lines.at(1).delivered_at);
  EXPECT_FALSE(lines.at(1).claim_in_flight);
}

TYPED_TEST_P(StoreContract, AnAdminUpdateNeverUndoesAPinOrLockTheServerSet) {
  auto& s = this->store();
  auto tenant = s.AddTenant(NewTenant("acme")).value();
  auto device = s.AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  // An admin reads the row, the server pins and locks meanwhile, the admin writes its edit.
  auto read_by_admin = s.FindDevice(device.mac).value();
  ASSERT_TRUE(s.PinDevice(device.id, "spki-1").value());
  ASSERT_TRUE(s.LockDevice(device.id, "certificate key changed"));
  read_by_admin.serial = "SN-edited";
  ASSERT_TRUE(s.UpdateDevice(read_by_admin));
  auto now = s.FindDevice(device.mac).value();
  EXPECT_EQ(now.serial, "SN-edited");
  EXPECT_EQ(now.pin_spki, "spki-1");
  EXPECT_EQ(now.locked_reason, "certificate key changed");
  // ReplaceDevice (re-activation) and ClearPin change them on purpose.
  ASSERT_TRUE(s.ClearPin(device.id));
  EXPECT_EQ(s.FindDevice(device.mac).value().pin_spki, "");
  now.locked_reason.clear();
  now.pin_spki = "spki-2";
  ASSERT_TRUE(s.ReplaceDevice(now, {}));
  EXPECT_EQ(s.FindDevice(device.mac).value().pin_spki, "spki-2");
  EXPECT_EQ(s.FindDevice(device.mac).value().locked_reason, "");
}

TYPED_TEST_P(StoreContract, ConfigKeyDeliveryIsRecordedOnceUntilTheKeyChanges) {
  auto& s = this->store();
  auto tenant = s.AddTenant(NewTenant("acme")).value();
  auto device = s.AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  device.config_key = "key-1";
  ASSERT_TRUE(s.UpdateDevice(device));
  EXPECT_FALSE(s.FindDevice(device.mac).value().config_key_delivered_at);
  EXPECT_TRUE(s.MarkConfigKeyDelivered(device.id, kStartUnix + 5, "c").value());
  EXPECT_FALSE(s.MarkConfigKeyDelivered(device.id, kStartUnix + 6, "c").value());
  auto got = s.FindDevice(device.mac).value();
  EXPECT_EQ(got.config_key_delivered_at, kStartUnix + 5);
  got.config_key = "key-2";
  got.config_key_delivered_at.reset();
  ASSERT_TRUE(s.UpdateDevice(got));
  EXPECT_FALSE(s.FindDevice(device.mac).value().config_key_delivered_at);
}

TYPED_TEST_P(StoreContract, AnEngineerWindowEndsOnceWithANewAdminPassword) {
  auto& s = this->store();
  auto tenant = s.AddTenant(NewTenant("acme")).value();
  auto device = s.AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  device.admin_password = "Engineer-knows";
  device.engineer_window_ends = kStartUnix + 3600;
  ASSERT_TRUE(s.UpdateDevice(device));
  EXPECT_EQ(s.FindDevice(device.mac).value().engineer_window_ends, kStartUnix + 3600);
  EXPECT_FALSE(s.EndEngineerWindow(device.id, kStartUnix + 60, "Nobody-knows").value());  // not that window
  ASSERT_TRUE(s.EndEngineerWindow(device.id, kStartUnix + 3600, "Nobody-knows").value());
  EXPECT_FALSE(s.EndEngineerWindow(device.id, kStartUnix + 3600, "Racer").value());  // ended already
  const auto got = s.FindDevice(device.mac).value();
  EXPECT_EQ(got.admin_password, "Nobody-knows");
  EXPECT_FALSE(got.engineer_window_ends);
}

TYPED_TEST_P(StoreContract, StockDeviceHasNoTenantOrWindow) {
  ASSERT_TRUE(this->inventory().AddDevice(NewDevice("001565aabbcc")));
  auto got = this->named().FindDevice(Mac("001565aabbcc")).value();
  EXPECT_FALSE(got.tenant_id);
  EXPECT_FALSE(got.window_opens);
  EXPECT_FALSE(got.window_expires);
  EXPECT_EQ(got.state, core::DeviceState::kStock);
}

TYPED_TEST_P(StoreContract, DuplicateDeviceIsAlreadyExists) {
  ASSERT_TRUE(this->inventory().AddDevice(NewDevice("001565aabbcc")));
  auto dup = this->inventory().AddDevice(NewDevice("00-15-65-AA-BB-CC"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.error().message, "device 001565aabbcc already exists");
}

TYPED_TEST_P(StoreContract, DeviceWithUnknownTenantIsNotFound) {
  auto added = this->inventory().AddDevice(NewDevice("001565aabbcc", 42));
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(added.error().message, "tenant 42 does not exist");
  EXPECT_EQ(this->named().FindDevice(Mac("001565aabbcc")).error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreContract, UnknownDeviceIsNotFound) {
  EXPECT_EQ(this->named().FindDevice(Mac("001565aabbcc")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->inventory().RemoveDevice(Mac("001565aabbcc")).error().code, ErrorCode::kNotFound);
  auto d = NewDevice("001565aabbcc");
  d.id = 42;
  EXPECT_EQ(this->inventory().UpdateDevice(d).error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreContract, UpdateDeviceKeepsCreatedAtAndStampsUpdatedAt) {
  auto tenant = this->inventory().AddTenant(NewTenant("acme")).value();
  auto d = this->inventory().AddDevice(NewDevice("001565aabbcc")).value();
  this->clock().Advance(std::chrono::hours(1));
  d.tenant_id = tenant.id;
  d.state = core::DeviceState::kAssigned;
  d.window_opens = kStartUnix + 3600;
  d.window_expires = kStartUnix + 3600 + 7 * 86400;
  d.model = "T57W";
  d.vars["label"] = "reception";
  ASSERT_TRUE(this->inventory().UpdateDevice(d));
  auto got = this->named().FindDevice(d.mac).value();
  EXPECT_EQ(got.tenant_id, tenant.id);
  EXPECT_EQ(got.state, core::DeviceState::kAssigned);
  EXPECT_EQ(got.window_opens, d.window_opens);
  EXPECT_EQ(got.window_expires, d.window_expires);
  EXPECT_EQ(got.model, "T57W");
  EXPECT_EQ(got.vars["label"], "reception");
  EXPECT_EQ(got.created_at, kStartUnix);
  EXPECT_EQ(got.updated_at, kStartUnix + 3600);

  d.tenant_id = 999;
  EXPECT_EQ(this->inventory().UpdateDevice(d).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(this->inventory().AddDevice(NewDevice("001565000001")));
  d.tenant_id = tenant.id;
  d.mac = Mac("001565000001");
  EXPECT_EQ(this->inventory().UpdateDevice(d).error().code, ErrorCode::kAlreadyExists);
}

TYPED_TEST_P(StoreContract, ListDevicesFiltersByTenantAndState) {
  using core::DeviceState;
  auto a = this->inventory().AddTenant(NewTenant("a")).value();
  auto b = this->inventory().AddTenant(NewTenant("b")).value();
  ASSERT_TRUE(this->inventory().AddDevice(NewDevice("000000000003", a.id, DeviceState::kAssigned)));
  ASSERT_TRUE(this->inventory().AddDevice(NewDevice("000000000001", a.id, DeviceState::kProvisioned)));
  ASSERT_TRUE(this->inventory().AddDevice(NewDevice("000000000002", b.id, DeviceState::kAssigned)));
  ASSERT_TRUE(this->inventory().AddDevice(NewDevice("000000000004")));

  auto macs = [&](const DeviceFilter& f) {
    std::vector<std::string> out;
    for (const auto& d : this->inventory().ListDevices(f).value()) out.push_back(d.mac.str());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(macs({}), (V{"000000000001", "000000000002", "000000000003", "000000000004"}));
  EXPECT_EQ(macs({.tenant_id = a.id, .state = std::nullopt}), (V{"000000000001", "000000000003"}));
  EXPECT_EQ(macs({.tenant_id = std::nullopt, .state = DeviceState::kAssigned}), (V{"000000000002", "000000000003"}));
  EXPECT_EQ(macs({.tenant_id = a.id, .state = DeviceState::kAssigned}), (V{"000000000003"}));
  EXPECT_EQ(macs({.tenant_id = std::nullopt, .state = DeviceState::kStock}), (V{"000000000004"}));
  EXPECT_EQ(macs({.tenant_id = 999, .state = std::nullopt}), V{});
}

TYPED_TEST_P(StoreContract, LinesRoundTripWithPasswords) {
  auto d = this->inventory().AddDevice(NewDevice("001565aabbcc")).value();
  ASSERT_TRUE(this->inventory().SetLine(NewLine(d.id, 2, std::nullopt)));
  ASSERT_TRUE(this->inventory().SetLine(NewLine(d.id, 1, "s3cret!")));
  ASSERT_TRUE(this->inventory().SetLine(NewLine(d.id, 3, "")));
  auto lines = this->inventory().ListLines(d.id);
  ASSERT_TRUE(lines) << lines.error().message;
  ASSERT_EQ(lines->size(), 3u);
  const auto& l1 = (*lines)[0];
  EXPECT_EQ(l1.device_id, d.id);
  EXPECT_EQ(l1.index, 1);
  EXPECT_EQ(l1.display_name, "Line 1");
  EXPECT_EQ(l1.user, "101");
  EXPECT_EQ(l1.auth_user, "auth101");
  EXPECT_EQ(l1.registrar, "sip.example.net");
  EXPECT_EQ(l1.port, 5061);
  EXPECT_EQ(l1.transport, core::Transport::kTls);
  EXPECT_EQ(l1.password, "s3cret!");
  EXPECT_EQ((*lines)[1].index, 2);
  EXPECT_EQ((*lines)[1].password, std::nullopt);
  EXPECT_EQ((*lines)[2].password, std::optional<std::string>(""));
}

TYPED_TEST_P(StoreContract, SetLineReplacesExistingIndex) {
  auto d = this->inventory().AddDevice(NewDevice("001565aabbcc")).value();
  ASSERT_TRUE(this->inventory().SetLine(NewLine(d.id, 1, "old")));
  auto line = NewLine(d.id, 1, std::nullopt);
  line.user = "200";
  line.transport = core::Transport::kUdp;
  line.port = 5060;
  ASSERT_TRUE(this->inventory().SetLine(line));
  auto lines = this->inventory().ListLines(d.id).value();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].user, "200");
  EXPECT_EQ(lines[0].transport, core::Transport::kUdp);
  EXPECT_EQ(lines[0].port, 5060);
  EXPECT_EQ(lines[0].password, std::nullopt);  // removing a password is an update too
}

TYPED_TEST_P(StoreContract, SetLineValidatesInput) {
  auto d = this->inventory().AddDevice(NewDevice("001565aabbcc")).value();
  auto orphan = this->inventory().SetLine(NewLine(d.id + 100, 1, "pw"));
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(orphan.error().message, "device " + std::to_string(d.id + 100) + " does not exist");
  EXPECT_EQ(this->inventory().SetLine(NewLine(d.id, 0, "pw")).error().code, ErrorCode::kInvalidArgument);
  auto bad_port = NewLine(d.id, 1, "pw");
  bad_port.port = 70000;
  EXPECT_EQ(this->inventory().SetLine(bad_port).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(this->inventory().ListLines(d.id).value().empty());
}

TYPED_TEST_P(StoreContract, RemoveLine) {
  auto d = this->inventory().AddDevice(NewDevice("001565aabbcc")).value();
  ASSERT_TRUE(this->inventory().SetLine(NewLine(d.id, 1, "a")));
  ASSERT_TRUE(this->inventory().SetLine(NewLine(d.id, 2, "b")));
  ASSERT_TRUE(this->inventory().RemoveLine(d.id, 1));
  EXPECT_EQ(this->inventory().RemoveLine(d.id, 1).error().code, ErrorCode::kNotFound);
  auto lines = this->inventory().ListLines(d.id).value();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].index, 2);
}

TYPED_TEST_P(StoreContract, RemoveDeviceRemovesItsLines) {
  auto d = this->inventory().AddDevice(NewDevice("001565aabbcc")).value();
  auto other = this->inventory().AddDevice(NewDevice("001565aabbcd")).value();
  ASSERT_TRUE(this->inventory().SetLine(NewLine(d.id, 1, "a")));
  ASSERT_TRUE(this->inventory().SetLine(NewLine(d.id, 2, "b")));
  ASSERT_TRUE(this->inventory().SetLine(NewLine(other.id, 1, "c")));
  ASSERT_TRUE(this->inventory().RemoveDevice(d.mac));
  EXPECT_EQ(this->named().FindDevice(d.mac).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->inventory().ListLines(d.id).value().empty());
  EXPECT_EQ(this->inventory().ListLines(other.id).value().size(), 1u);
  // The MAC is free again.
  EXPECT_TRUE(this->inventory().AddDevice(NewDevice("001565aabbcc")));
}

TYPED_TEST_P(StoreContract, ImportTakesRowsOneAtATimeAllOrNothing) {
  auto& s = this->store();
  const char* macs[] = {"001565aabb01", "001565aabb02", "001565aabb03"};
  // A source that fails after two rows: neither row stays.
  size_t i = 0;
  auto failing = [&]() -> Result<std::optional<DeviceWithLines>> {
    if (i == 2) return Error::Unavailable("the manifest could not be read back");
    DeviceWithLines row{NewDevice(macs[i++]), {NewLine(0, 1, "secret")}};
    return std::optional<DeviceWithLines>(std::move(row));
  };
  EXPECT_EQ(s.ImportDeviceRows(failing, {}).error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(s.FindDevice(Mac(macs[0])).error().code, ErrorCode::kNotFound);
  // The same rows to the end: all of them, with their lines, and progress counts them.
  i = 0;
  auto three = [&]() -> Result<std::optional<DeviceWithLines>> {
    if (i == 3) return std::optional<DeviceWithLines>();
    DeviceWithLines row{NewDevice(macs[i++]), {NewLine(0, 1, "secret")}};
    return std::optional<DeviceWithLines>(std::move(row));
  };
  size_t reported = 0;
  ASSERT_TRUE(s.ImportDeviceRows(three, [&](size_t n) { reported = n; }));
  EXPECT_EQ(reported, 3u);
  for (const char* mac : macs) {
    auto d = s.FindDevice(Mac(mac)).value();
    auto lines = s.ListLines(d.id).value();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].password, std::optional<std::string>("secret"));
  }
  // A row whose MAC is taken rolls the whole import back.
  i = 0;
  const char* again[] = {"001565aabb04", "001565aabb01"};
  auto clash = [&]() -> Result<std::optional<DeviceWithLines>> {
    if (i == 2) return std::optional<DeviceWithLines>();
    return std::optional<DeviceWithLines>(DeviceWithLines{NewDevice(again[i++]), {}});
  };
  EXPECT_EQ(s.ImportDeviceRows(clash, {}).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(s.FindDevice(Mac(again[0])).error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreContract, AuditListsByMacNewestFirstWithLimit) {
  auto event = [](std::int64_t time, std::string mac, std::string reason) {
    StoredAuditEvent e;
    e.time = time;
    e.kind = "request";
    e.mac = std::move(mac);
    e.decision = "deny";
    e.reason = std::move(reason);
    e.json = R"({"reason":")" + e.reason + R"("})";
    return e;
  };
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(this->audit().AppendAudit(event(kStartUnix + i, "001565aabbcc", "a" + std::to_string(i))));
    ASSERT_TRUE(this->audit().AppendAudit(event(kStartUnix + i, "001565000000", "b" + std::to_string(i))));
  }
  // Same timestamp as the last one: order is append order, not time.
  ASSERT_TRUE(this->audit().AppendAudit(event(kStartUnix + 4, "001565aabbcc", "a5")));

  auto reasons = [](const std::vector<StoredAuditEvent>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.reason);
    return out;
  };
  using V = std::vector<std::string>;
  auto last3 = this->audit().ListAudit("001565aabbcc", 3);
  ASSERT_TRUE(last3) << last3.error().message;
  EXPECT_EQ(reasons(*last3), (V{"a5", "a4", "a3"}));
  const auto& newest = (*last3)[0];
  EXPECT_GT(newest.id, 0);
  EXPECT_EQ(newest.time, kStartUnix + 4);
  EXPECT_EQ(newest.kind, "request");
  EXPECT_EQ(newest.mac, "001565aabbcc");
  EXPECT_EQ(newest.decision, "deny");
  EXPECT_EQ(newest.json, R"({"reason":"a5"})");

  EXPECT_EQ(this->audit().ListAudit("001565aabbcc", 100).value().size(), 6u);
  EXPECT_TRUE(this->audit().ListAudit("00156500ffff", 10).value().empty());
  EXPECT_EQ(reasons(this->audit().ListAudit("", 2).value()), (V{"a5", "b4"}));
  EXPECT_EQ(this->audit().ListAudit("", 0).error().code, ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(StoreContract, AuditBatchRecordsDevicesSeen) {
  auto tenant = this->inventory().AddTenant(NewTenant("acme")).value();
  auto a = this->inventory().AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  auto b = this->inventory().AddDevice(NewDevice("001565aabbcd", tenant.id, core::DeviceState::kAssigned)).value();
  ASSERT_TRUE(this->audit().AppendAuditBatch({}, {}, std::nullopt));
  const std::vector<DeviceSeen> seen = {
      {a.id, kStartUnix + 1, "192.0.2.1", "Yealink SIP-T54W 96.86.0.100", "96.86.0.100"},
      {b.id, kStartUnix + 2, "192.0.2.2", "ua-b", "1.0"},
      {a.id, kStartUnix + 3, "192.0.2.3", "ua-a2", ""},  // no firmware: keeps 96.86.0.100
      {a.id + b.id + 100, kStartUnix, "192.0.2.9", "nobody", "9"},
  };
  StoredAuditEvent e;
  e.time = kStartUnix + 3;
  e.kind = "request";
  e.mac = "001565aabbcc";
  e.decision = "allow";
  e.reason = "device file";
  e.json = R"({"reason":"device file"})";
  auto st = this->audit().AppendAuditBatch({e}, seen, std::nullopt);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(this->audit().ListAudit("001565aabbcc", 10).value().size(), 1u);
  auto got_a = this->named().FindDevice(Mac("001565aabbcc")).value();
  EXPECT_EQ(got_a.last_seen_at, kStartUnix + 3);
  EXPECT_EQ(got_a.last_seen_ip, "192.0.2.3");
  EXPECT_EQ(got_a.last_user_agent, "ua-a2");
  EXPECT_EQ(got_a.firmware, "96.86.0.100");
  EXPECT_EQ(got_a.state, core::DeviceState::kAssigned);  // touches only its own columns
  auto got_b = this->named().FindDevice(Mac("001565aabbcd")).value();
  EXPECT_EQ(got_b.last_seen_at, kStartUnix + 2);
  EXPECT_EQ(got_b.firmware, "1.0");
}

TYPED_TEST_P(StoreContract, AuditCopyMarkIsRecordedWithItsBatch) {
  EXPECT_FALSE(this->audit().FindAuditCopyMark("/var/log/a.log").value().has_value());
  auto event = [](const std::string& json) {
    StoredAuditEvent e;
    e.time = kStartUnix;
    e.kind = "request";
    e.decision = "allow";
    e.json = json;
    return e;
  };
  ASSERT_TRUE(this->audit().AppendAuditBatch({event("{\"n\":1}"), event("{\"n\":2}")}, {},
                                             AuditCopyMark{"/var/log/a.log", 120, "r1", 2}));
  ASSERT_TRUE(this->audit().AppendAuditBatch({event("{\"n\":3}")}, {}, AuditCopyMark{"/var/log/b.log", 5, "r9", 1}));
  auto a = this->audit().FindAuditCopyMark("/var/log/a.log").value();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->file, "/var/log/a.log");
  EXPECT_EQ(a->offset, 120);
  EXPECT_EQ(a->run, "r1");
  EXPECT_EQ(a->seq, 2);
  EXPECT_EQ(this->audit().ListAudit("", 10).value().size(), 3u);
  // A later mark for the same file replaces the earlier one; a batch may carry only a mark.
  ASSERT_TRUE(this->audit().AppendAuditBatch({}, {}, AuditCopyMark{"/var/log/a.log", 300, "r2", 0}));
  EXPECT_EQ(this->audit().FindAuditCopyMark("/var/log/a.log").value()->offset, 300);
  EXPECT_EQ(this->audit().FindAuditCopyMark("/var/log/a.log").value()->run, "r2");
  EXPECT_EQ(this->audit().FindAuditCopyMark("/var/log/b.log").value()->offset, 5);
  // A rejected batch leaves nothing behind.
  EXPECT_EQ(this->audit()
                .AppendAuditBatch({event("{\"n\":4}")}, {}, AuditCopyMark{"/var/log/a.log", -1, "r3", 0})
                .error()
                .code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->audit().FindAuditCopyMark("/var/log/a.log").value()->offset, 300);
  EXPECT_EQ(this->audit().ListAudit("", 10).value().size(), 3u);
}

TYPED_TEST_P(StoreContract, ModelRepresentativesAreTheFirstOfEachModelNotRetired) {
  auto acme = this->inventory().AddTenant(NewTenant("acme")).value();
  auto other = this->inventory().AddTenant(NewTenant("other")).value();
  auto add = [&](const char* mac, std::int64_t tenant, const char* vendor, const char* model, core::DeviceState state) {
    auto d = NewDevice(mac, tenant, state);
    d.vendor = vendor;
    d.model = model;
    return this->inventory().AddDevice(d).value();
  };
  add("001565000001", acme.id, "yealink", "T54W", core::DeviceState::kRetired);
  auto t54 = add("001565000002", acme.id, "yealink", "T54W", core::DeviceState::kAssigned);
  add("001565000003", acme.id, "yealink", "T54W", core::DeviceState::kProvisioned);
  auto vvx = add("0004f2000001", acme.id, "polycom", "VVX450", core::DeviceState::kAssigned);
  add("0004f2000002", other.id, "polycom", "VVX250", core::DeviceState::kAssigned);
  auto got = this->inventory().ListModelRepresentatives(acme.id);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].id, vvx.id);
  EXPECT_EQ((*got)[1].id, t54.id);
  EXPECT_TRUE(this->inventory().ListModelRepresentatives(other.id + 100).value().empty());
}

// What a cache relies on (CachedStore): every write to tenants, devices or lines changes
// DataGeneration; reads, audit records with last-seen values and bans leave it alone.
TYPED_TEST_P(StoreContract, DataGenerationChangesWithEveryWriteAndOnlyThen) {
  Store& s = this->store();
  std::uint64_t before = s.DataGeneration();
  auto changed = [&](const char* what) {
    const std::uint64_t now = s.DataGeneration();
    EXPECT_NE(now, before) << what << " did not change the generation";
    before = now;
  };
  auto unchanged = [&](const char* what) { EXPECT_EQ(s.DataGeneration(), before) << what; };

  auto tenant = s.AddTenant(NewTenant("acme")).value();
  changed("AddTenant");
  tenant.display_name = "Acme Inc.";
  ASSERT_TRUE(s.UpdateTenant(tenant));
  changed("UpdateTenant");
  auto device = s.AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  changed("AddDevice");
  device.serial = "SN-2";
  ASSERT_TRUE(s.UpdateDevice(device));
  changed("UpdateDevice");
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 1, "secret-1")));
  changed("SetLine");
  ASSERT_TRUE(s.ClaimPasswords(device.id, {1}, kStartUnix, "c").value().size() == 1);
  changed("ClaimPasswords");
  ASSERT_TRUE(s.ReleaseClaim(device.id, "c", 1).value());
  changed("ReleaseClaim");
  ASSERT_EQ(s.WipeDeliveredPasswords(device.id, kStartUnix).value().size(), 1u);
  changed("WipeDeliveredPasswords");
  ASSERT_TRUE(
      s.TransitionState(device.id, core::DeviceState::kAssigned, core::DeviceState::kProvisioned, kStartUnix).value());
  changed("TransitionState");
  ASSERT_TRUE(s.PinDevice(device.id, std::string(64, 'a')).value());
  changed("PinDevice");
  ASSERT_TRUE(s.LockDevice(device.id, "test"));
  changed("LockDevice");
  ASSERT_TRUE(s.ClearPin(device.id));
  changed("ClearPin");
  ASSERT_TRUE(s.MarkConfigKeyDelivered(device.id, kStartUnix, "c").value());
  changed("MarkConfigKeyDelivered");
  ASSERT_TRUE(s.ReplaceDevice(device, {NewLine(device.id, 2, std::nullopt)}));
  changed("ReplaceDevice");
  ASSERT_TRUE(s.RemoveLine(device.id, 2));
  changed("RemoveLine");
  ASSERT_TRUE(s.ImportDevices({DeviceWithLines{NewDevice("001565aabbcd", tenant.id), {}}}, {}));
  changed("ImportDevices");
  ASSERT_TRUE(s.RemoveDevice(Mac("001565aabbcd")));
  changed("RemoveDevice");

  ASSERT_TRUE(s.FindDevice(Mac("001565aabbcc")));
  ASSERT_TRUE(s.GetTenant(tenant.id));
  ASSERT_TRUE(s.ListLines(device.id));
  ASSERT_TRUE(s.ListDevices({}));
  unchanged("reads");
  StoredAuditEvent e;
  e.time = kStartUnix;
  e.kind = "request";
  e.json = "{}";
  ASSERT_TRUE(s.AppendAuditBatch({e}, {{device.id, kStartUnix, "192.0.2.1", "ua", "1.0"}}, std::nullopt));
  ASSERT_TRUE(s.AppendAudit(e));
  unchanged("audit records and last-seen values");
  ASSERT_TRUE(s.SaveBan(defense::Ban{"192.0.2.9/32", "scan", kStartUnix, kStartUnix + 60, 1}));
  unchanged("bans");
}

// NamedReads: a device by its URL token hash, read from the data.
TYPED_TEST_P(StoreContract, DeviceIsFoundByItsTokenHashOnly) {
  auto tenant = this->inventory().AddTenant(NewTenant("acme")).value();
  auto d = NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned);
  d.token_hash = std::string(64, 'c');
  auto added = this->inventory().AddDevice(d).value();
  auto found = this->named().FindDeviceByToken(std::string(64, 'c'));
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->id, added.id);
  EXPECT_EQ(this->named().FindDeviceByToken(std::string(64, 'd')).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->named().FindDeviceByToken("").error().code, ErrorCode::kNotFound);
}

// ProvenReads of the backend answer what NamedReads answer, each call its own copy.
TYPED_TEST_P(StoreContract, ProvenReadsOfTheBackendAnswerFromTheData) {
  auto tenant = this->inventory().AddTenant(NewTenant("acme")).value();
  auto device = this->inventory().AddDevice(NewDevice("001565aabbcc", tenant.id)).value();
  ASSERT_TRUE(this->inventory().SetLine(NewLine(device.id, 1, "secret")));
  const auto proven = this->proven().FindProvenDevice(device.mac).value();
  EXPECT_EQ(proven->id, device.id);
  EXPECT_EQ(proven->serial, this->named().FindDevice(device.mac).value().serial);
  EXPECT_NE(this->proven().FindProvenDevice(device.mac).value(), proven);
  EXPECT_EQ(this->proven().GetTenantShared(tenant.id).value()->name, "acme");
  EXPECT_EQ(this->proven().ListLines(device.id).value().at(0).password, "secret");
  EXPECT_EQ(this->proven().FindProvenDevice(Mac("001565000001")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->proven().GetTenantShared(tenant.id + 100).error().code, ErrorCode::kNotFound);
}

// Inventory: a tenant's source ranges are stored as the networks they name and read back
// typed, in order, without duplicates.
TYPED_TEST_P(StoreContract, TenantSourceRangesRoundTripAsNetworks) {
  auto t = NewTenant("acme");
  t.ip_ranges = net::IpSet::Parse({"192.0.2.0/24", "2001:db8::/32", "198.51.100.7"}).value();
  auto added = this->inventory().AddTenant(t).value();
  const auto got = this->named().GetTenant(added.id).value();
  EXPECT_EQ(got.ip_ranges, t.ip_ranges);
  EXPECT_EQ(got.ip_ranges.ToStrings(), (std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32", "198.51.100.7/32"}));
  EXPECT_TRUE(got.ip_ranges.Contains(net::IpAddress::Parse("192.0.2.77").value()));
  EXPECT_FALSE(got.ip_ranges.Contains(net::IpAddress::Parse("192.0.3.1").value()));

  auto changed = got;
  changed.ip_ranges = net::IpSet();
  ASSERT_TRUE(this->inventory().UpdateTenant(changed));
  EXPECT_TRUE(this->inventory().FindTenant("acme").value().ip_ranges.empty());
}

// defense::BanStore: one row per source, replaced by a later save; only bans not yet
// expired are loaded.
TYPED_TEST_P(StoreContract, BansAreOnePerSourceAndLoadedWhileActive) {
  auto& bans = this->bans();
  const defense::Ban first{"192.0.2.7/32", "scan", kStartUnix, kStartUnix + 60, 1};
  const defense::Ban other{"2001:db8::/64", "failed auth", kStartUnix, kStartUnix + 10, 1};
  ASSERT_TRUE(bans.SaveBan(first));
  ASSERT_TRUE(bans.SaveBan(other));
  auto active = bans.LoadActiveBans(kStartUnix).value();
  std::sort(active.begin(), active.end(), [](const auto& a, const auto& b) { return a.source < b.source; });
  EXPECT_EQ(active, (std::vector<defense::Ban>{first, other}));
  EXPECT_EQ(bans.LoadActiveBans(kStartUnix + 10).value(), std::vector<defense::Ban>{first});

  const defense::Ban again{"192.0.2.7/32", "scan again", kStartUnix + 70, kStartUnix + 310, 2};
  ASSERT_TRUE(bans.SaveBan(again));
  EXPECT_EQ(bans.LoadActiveBans(kStartUnix + 70).value(), std::vector<defense::Ban>{again});

  ASSERT_TRUE(bans.RemoveBan("192.0.2.7/32"));
  EXPECT_TRUE(bans.LoadActiveBans(kStartUnix + 70).value().empty());
  EXPECT_EQ(bans.RemoveBan("192.0.2.7/32").error().code, ErrorCode::kNotFound);
}

REGISTER_TYPED_TEST_SUITE_P(
    StoreContract, AnEngineerWindowEndsOnceWithANewAdminPassword, GiveBackUndoesOnlyTheClaimAndMarkOfThatResponse,
    AClaimInFlightIsNeverWipedAndIsReleasedOrGivenBackOnce, AClaimIsReleasedOnlyWithEveryLineStillInFlight,
    SchemaVersionIsPositive, TenantRoundTripsByIdAndName, DuplicateTenantNameIsAlreadyExists, UnknownTenantIsNotFound,
    UpdateAndListTenants, VarsMustBeAnObject, DeviceRoundTripsAllFields, StockDeviceHasNoTenantOrWindow,
    DuplicateDeviceIsAlreadyExists, DeviceWithUnknownTenantIsNotFound, UnknownDeviceIsNotFound,
    ClaimSpendsOnlyTheNamedLines, AnAdminUpdateNeverUndoesAPinOrLockTheServerSet,
    ConfigKeyDeliveryIsRecordedOnceUntilTheKeyChanges, UpdateDeviceKeepsCreatedAtAndStampsUpdatedAt,
    ListDevicesFiltersByTenantAndState, LinesRoundTripWithPasswords, SetLineReplacesExistingIndex,
    SetLineValidatesInput, RemoveLine, RemoveDeviceRemovesItsLines, ImportTakesRowsOneAtATimeAllOrNothing,
    AuditListsByMacNewestFirstWithLimit, AuditBatchRecordsDevicesSeen, AuditCopyMarkIsRecordedWithItsBatch,
    ModelRepresentativesAreTheFirstOfEachModelNotRetired, DataGenerationChangesWithEveryWriteAndOnlyThen,
    DeviceIsFoundByItsTokenHashOnly, ProvenReadsOfTheBackendAnswerFromTheData, TenantSourceRangesRoundTripAsNetworks,
    BansAreOnePerSourceAndLoadedWhileActive);

// The proven-read role as the pipeline uses it: `reads()` answers the reads of a proven
// device's request; the backend takes the writes. Whatever stands in front of the backend
// must answer exactly what the backend would, right after any write completed.
template <class Factory>
class ProvenReadsContract : public ::testing::Test {
 protected:
  void SetUp() override {
    SkipWithoutBackend(factory_);
    if (IsSkipped()) return;
    factory_.clock().Set(FromUnix(kStartUnix));
    store_ = factory_.Create();
    ASSERT_NE(store_, nullptr);
    reads_ = &factory_.ProvenOver(*store_);
    audit_ = &factory_.AuditOver(*store_);
  }

  Store& backend() { return *store_; }
  ProvenReads& reads() { return *reads_; }
  AuditSink& audit() { return *audit_; }

  Factory factory_;
  std::unique_ptr<Store> store_;  // declared after factory_: destroyed first
  ProvenReads* reads_ = nullptr;
  AuditSink* audit_ = nullptr;
};

TYPED_TEST_SUITE_P(ProvenReadsContract);

TYPED_TEST_P(ProvenReadsContract, AnswersWhatTheBackendHolds) {
  Store& s = this->backend();
  auto t = NewTenant("acme");
  t.ip_ranges = net::IpSet::Parse({"10.0.0.0/8"}).value();
  auto tenant = s.AddTenant(t).value();
  auto device = s.AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 1, std::nullopt)));
  for (int i = 0; i < 2; ++i) {
    const auto d = this->reads().FindProvenDevice(device.mac).value();
    EXPECT_EQ(d->id, device.id);
    EXPECT_EQ(d->serial, device.serial);
    const auto got = this->reads().GetTenantShared(tenant.id).value();
    EXPECT_EQ(got->name, "acme");
    EXPECT_EQ(got->ip_ranges, t.ip_ranges);
    EXPECT_EQ(this->reads().ListLines(device.id).value().size(), 1u);
  }
  EXPECT_EQ(this->reads().DataGeneration(), s.DataGeneration());
}

TYPED_TEST_P(ProvenReadsContract, UnknownDeviceAndTenantAreNotFound) {
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(this->reads().FindProvenDevice(Mac("001565000001")).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(this->reads().GetTenantShared(42).error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(this->reads().ListLines(42).value().empty());
  }
}

// Reads that come after a write see it, also when the same rows were read before it (what
// a cache in front of the store must not get wrong).
TYPED_TEST_P(ProvenReadsContract, ReadsAfterAWriteSeeIt) {
  Store& s = this->backend();
  auto tenant = s.AddTenant(NewTenant("acme")).value();
  auto device = s.AddDevice(NewDevice("001565aabbcc", tenant.id, core::DeviceState::kAssigned)).value();
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 1, std::nullopt)));
  auto read_all = [&] {
    return std::tuple(*this->reads().FindProvenDevice(device.mac).value(),
                      *this->reads().GetTenantShared(tenant.id).value(), this->reads().ListLines(device.id).value());
  };
  read_all();
  read_all();

  ASSERT_TRUE(s.LockDevice(device.id, "cloned certificate"));
  EXPECT_EQ(std::get<0>(read_all()).locked_reason, "cloned certificate");
  ASSERT_TRUE(
      s.TransitionState(device.id, core::DeviceState::kAssigned, core::DeviceState::kRetired, kStartUnix + 5).value());
  EXPECT_EQ(std::get<0>(read_all()).state, core::DeviceState::kRetired);
  ASSERT_TRUE(s.PinDevice(device.id, std::string(64, 'b')).value());
  EXPECT_EQ(std::get<0>(read_all()).pin_spki, std::string(64, 'b'));
  tenant.min_strength = core::IdentityStrength::kDigest;
  tenant.ip_ranges = net::IpSet::Parse({"192.0.2.0/24"}).value();
  ASSERT_TRUE(s.UpdateTenant(tenant));
  EXPECT_EQ(std::get<1>(read_all()).min_strength, core::IdentityStrength::kDigest);
  EXPECT_EQ(std::get<1>(read_all()).ip_ranges, tenant.ip_ranges);
  auto line = NewLine(device.id, 1, std::nullopt);
  line.registrar = "sip2.example.net";
  ASSERT_TRUE(s.SetLine(line));
  EXPECT_EQ(std::get<2>(read_all()).at(0).registrar, "sip2.example.net");
  ASSERT_TRUE(s.SetLine(NewLine(device.id, 1, "new-secret")));
  EXPECT_EQ(std::get<2>(read_all()).at(0).password, "new-secret");
  ASSERT_EQ(s.ClaimPasswords(device.id, {1}, kStartUnix + 6, "c").value().size(), 1u);
  EXPECT_EQ(std::get<2>(read_all()).at(0).delivered_at, kStartUnix + 6);
  EXPECT_TRUE(std::get<2>(read_all()).at(0).claim_in_flight);
  ASSERT_TRUE(s.ReleaseClaim(device.id, "c", 1).value());
  EXPECT_FALSE(std::get<2>(read_all()).at(0).claim_in_flight);
  ASSERT_EQ(s.WipeDeliveredPasswords(device.id, kStartUnix + 6).value().size(), 1u);
  EXPECT_FALSE(std::get<2>(read_all()).at(0).password);
  ASSERT_TRUE(
      this->audit().AppendAuditBatch({}, {{device.id, kStartUnix + 7, "192.0.2.7", "ua-7", "7.0"}}, std::nullopt));
  EXPECT_EQ(std::get<0>(read_all()).last_seen_ip, "192.0.2.7");
  EXPECT_EQ(std::get<0>(read_all()).firmware, "7.0");
  ASSERT_TRUE(s.RemoveDevice(device.mac));
  EXPECT_EQ(this->reads().FindProvenDevice(device.mac).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->reads().ListLines(device.id).value().empty());
}

// The fleet in pages and by ids, for a cache that fills itself: every device once, in id
// order, each with its own lines in index order, passwords opened.
TYPED_TEST_P(ProvenReadsContract, ReadsTheFleetInPagesAndByIds) {
  Store& s = this->backend();
  auto tenant = s.AddTenant(NewTenant("acme")).value();
  std::vector<core::Device> devices;
  for (int i = 0; i < 5; ++i) {
    devices.push_back(
        s.AddDevice(NewDevice(fmt::format("0015650000{:02x}", i), tenant.id, core::DeviceState::kAssigned)).value());
    ASSERT_TRUE(s.SetLine(NewLine(devices.back().id, 2, std::nullopt)));
    ASSERT_TRUE(s.SetLine(NewLine(devices.back().id, 1, i == 3 ? std::optional<std::string>("sip-3") : std::nullopt)));
  }
  std::vector<std::int64_t> seen;
  std::int64_t after = 0;
  for (;;) {
    const FleetPage page = this->reads().ReadFleetPage(after, 2).value();
    if (page.devices.empty()) break;
    EXPECT_LE(page.devices.size(), 2u);
    ASSERT_EQ(page.lines.size(), 2 * page.devices.size());
    for (size_t i = 0; i < page.devices.size(); ++i) {
      seen.push_back(page.devices[i].id);
      EXPECT_EQ(page.lines[2 * i].device_id, page.devices[i].id);
      EXPECT_EQ(page.lines[2 * i].index, 1);
      EXPECT_EQ(page.lines[2 * i + 1].index, 2);
    }
    after = page.devices.back().id;
  }
  std::vector<std::int64_t> want;
  for (const auto& d : devices) want.push_back(d.id);
  EXPECT_EQ(seen, want);

  const FleetPage some = this->reads().ReadFleetDevices({devices[3].id, devices[1].id, 987654}).value();
  ASSERT_EQ(some.devices.size(), 2u);
  EXPECT_EQ(some.devices[0].id, devices[1].id);
  EXPECT_EQ(some.devices[1].mac, devices[3].mac);
  ASSERT_EQ(some.lines.size(), 4u);
  EXPECT_EQ(some.lines[2].device_id, devices[3].id);
  EXPECT_EQ(some.lines[2].password, "sip-3");
  EXPECT_TRUE(this->reads().ReadFleetDevices({}).value().devices.empty());
}

REGISTER_TYPED_TEST_SUITE_P(ProvenReadsContract, AnswersWhatTheBackendHolds, UnknownDeviceAndTenantAreNotFound,
                            ReadsAfterAWriteSeeIt, ReadsTheFleetInPagesAndByIds);

}  // namespace provgate::store::contract
