#include "pipeline/refusal.hpp"

#include <set>

#include <gtest/gtest.h>

namespace provgate::pipeline {
namespace {

TEST(Refusal, NamesAreDistinctAndCarryNoSeparator) {
  std::set<std::string_view> seen;
  for (const auto name : kRefusalNames) {
    EXPECT_TRUE(seen.insert(name).second) << name;
    EXPECT_EQ(name.find(':'), std::string_view::npos) << name;  // the audit reason's label ends at ':'
    EXPECT_FALSE(name.empty());
  }
}

TEST(Refusal, AuditReasonIsTheNameThenTheDetail) {
  EXPECT_EQ((Refused{Refusal::kMacMismatch}.AuditReason()), "mac mismatch");
  EXPECT_EQ((Refused{Refusal::kDeviceLocked, "stolen \"phone\""}.AuditReason()), "device locked: stolen \"phone\"");
  EXPECT_EQ((Refused{Refusal::kBelowPolicy, "token < client-cert"}.AuditReason()), "below policy: token < client-cert");
}

TEST(Refusal, NameOfEachValue) {
  EXPECT_EQ(RefusalName(Refusal::kMethodNotAllowed), "method not allowed");
  EXPECT_EQ(RefusalName(Refusal::kNoMacInCertificate), "no MAC in certificate");
  EXPECT_EQ(RefusalName(Refusal::kKeyNeedsTls), "key needs tls");
  EXPECT_EQ(RefusalName(Refusal::kDeviceFileNeedsTls), "device file needs tls or encryption");
}

}  // namespace
}  // namespace provgate::pipeline
