// Contract tests of `provgate db check` (Store::CheckInvariants) for every backend: clean data
// breaks nothing, and each invariant a test breaks on purpose, with SQL both engines read, is
// named with its offending row. The factory is the StoreContract one (store_contract_test.hpp)
// plus:
//
//   Status Execute(const std::string& sql);  // raw SQL on the store's data, behind its back
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, InvariantContract, ::testing::Types<MyFactory>);
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/store_contract_test.hpp"

namespace provgate::store::contract {

template <class Factory>
class InvariantContract : public ::testing::Test {
 protected:
  void SetUp() override {
    SkipWithoutBackend(factory_);
    if (IsSkipped()) return;
    factory_.clock().Set(FromUnix(kStartUnix));
    store_ = factory_.Create();
    ASSERT_NE(store_, nullptr);
    tenant_ = store_->AddTenant(NewTenant("acme")).value();
    auto d = NewDevice("001565aabbcc", tenant_.id, core::DeviceState::kAssigned);
    d.window_opens = kStartUnix;
    d.window_expires = kStartUnix + 14 * 86400;
    device_ = store_->AddDevice(d).value();
    ASSERT_TRUE(store_->SetLine(NewLine(device_.id, 1, "secret-1")));
    ASSERT_TRUE(store_->AddDevice(NewDevice("001565aabbcd")));
  }

  // The names of the broken invariants, and the rows of `name`.
  std::vector<std::string> Broken() {
    auto broken = store_->CheckInvariants();
    EXPECT_TRUE(broken) << broken.error().message;
    std::vector<std::string> names;
    if (broken) {
      for (const auto& v : *broken) names.push_back(v.name);
    }
    return names;
  }
  std::vector<std::string> RowsOf(const std::string& name) {
    for (const auto& v : store_->CheckInvariants().value()) {
      if (v.name == name) return v.rows;
    }
    return {};
  }
  void Execute(const std::string& sql) {
    auto r = factory_.Execute(sql);
    ASSERT_TRUE(r) << r.error().message;
  }

  Factory factory_;
  std::unique_ptr<Store> store_;
  core::Tenant tenant_;
  core::Device device_ = NewDevice("001565aabbcc");
};

TYPED_TEST_SUITE_P(InvariantContract);

TYPED_TEST_P(InvariantContract, DataWrittenThroughTheStoreBreaksNothing) {
  ASSERT_EQ(this->store_->ClaimPasswords(this->device_.id, {1}, kStartUnix + 5, "c").value().size(), 1u);
  EXPECT_TRUE(this->Broken().empty());
}

TYPED_TEST_P(InvariantContract, ALineDeliveredBeforeThePendingWindowIsNamed) {
  this->Execute("UPDATE lines SET delivered_at = " + std::to_string(kStartUnix - 60));
  EXPECT_EQ(this->Broken(), std::vector<std::string>{"line-delivered-and-pending"});
  EXPECT_EQ(this->RowsOf("line-delivered-and-pending"), std::vector<std::string>{"device 001565aabbcc line 1"});
}

TYPED_TEST_P(InvariantContract, ALockWithoutItsLifecycleRecordIsNamedUntilTheRecordIsCopied) {
  ASSERT_TRUE(this->store_->LockDevice(this->device_.id, "address anomaly"));
  EXPECT_EQ(this->Broken(), std::vector<std::string>{"locked-without-lifecycle-record"});
  EXPECT_EQ(this->RowsOf("locked-without-lifecycle-record"),
            std::vector<std::string>{"device 001565aabbcc locked: address anomaly"});
  StoredAuditEvent e;
  e.time = kStartUnix;
  e.kind = "lifecycle";
  e.mac = "001565aabbcc";
  e.decision = "info";
  e.reason = "locked";
  e.json = "{}";
  ASSERT_TRUE(this->store_->AppendAudit(e));
  EXPECT_TRUE(this->Broken().empty());
}

TYPED_TEST_P(InvariantContract, TenantAndStateThatDisagreeAreNamed) {
  this->Execute("UPDATE devices SET tenant_id = NULL WHERE mac = '001565aabbcc'");
  this->Execute("UPDATE devices SET tenant_id = " + std::to_string(this->tenant_.id) + " WHERE mac = '001565aabbcd'");
  EXPECT_EQ(this->Broken(), (std::vector<std::string>{"assigned-device-without-tenant", "stock-device-with-tenant"}));
  EXPECT_EQ(this->RowsOf("stock-device-with-tenant"), std::vector<std::string>{"device 001565aabbcd"});
}

TYPED_TEST_P(InvariantContract, AnAssignedDeviceWithoutAWindowIsNamed) {
  this->Execute("UPDATE devices SET window_expires = window_opens - 1 WHERE mac = '001565aabbcc'");
  EXPECT_EQ(this->Broken(), std::vector<std::string>{"assigned-device-without-window"});
}

REGISTER_TYPED_TEST_SUITE_P(InvariantContract, DataWrittenThroughTheStoreBreaksNothing,
                            ALineDeliveredBeforeThePendingWindowIsNamed,
                            ALockWithoutItsLifecycleRecordIsNamedUntilTheRecordIsCopied,
                            TenantAndStateThatDisagreeAreNamed, AnAssignedDeviceWithoutAWindowIsNamed);

}  // namespace provgate::store::contract
