#include "pipeline/device_metrics.hpp"

#include <gtest/gtest.h>

namespace provgate::pipeline {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

audit::AuditRecord Record(std::string decision) {
  audit::AuditRecord r;
  r.decision = std::move(decision);
  return r;
}

class ListenerMetricsTest : public ::testing::Test {
 protected:
  DeviceMetrics metrics_{{"devices", "mixed"}, {"yealink", "polycom"}};
  ListenerMetrics& devices_ = *metrics_.ForListener("devices");
  ListenerMetrics& mixed_ = *metrics_.ForListener("mixed");
};

TEST_F(ListenerMetricsTest, VendorsAreTheRegistrysAndNoneLast) {
  EXPECT_EQ(metrics_.vendors(), (std::vector<std::string>{"yealink", "polycom", "none"}));
  EXPECT_EQ(metrics_.ForListener("nope"), nullptr);
  EXPECT_EQ(metrics_.listeners().size(), 2u);
}

TEST_F(ListenerMetricsTest, CountsRequestsByDecisionAndVendorPerListener) {
  devices_.Count(devices_.Classify(Record("allow"), std::nullopt, "yealink"), true, milliseconds(1));
  devices_.Count(devices_.Classify(Record("allow"), std::nullopt, "yealink"), true, milliseconds(1));
  devices_.Count(devices_.Classify(Record("deny"), Refusal::kMacMismatch, "polycom"), true, milliseconds(1));
  devices_.Count(devices_.Classify(Record("deny"), Refusal::kUnknownDevice, ""), true, milliseconds(1));
  devices_.Count(devices_.Classify(Record("error"), std::nullopt, ""), true, milliseconds(1));
  mixed_.Count(mixed_.Classify(Record("allow"), std::nullopt, "polycom"), true, milliseconds(1));
  EXPECT_EQ(devices_.requests(0, Decision::kAllow), 2u);
  EXPECT_EQ(devices_.requests(1, Decision::kDeny), 1u);
  EXPECT_EQ(devices_.requests(2, Decision::kDeny), 1u);  // none
  EXPECT_EQ(devices_.requests(2, Decision::kError), 1u);
  EXPECT_EQ(devices_.requests(1, Decision::kAllow), 0u);
  EXPECT_EQ(mixed_.requests(1, Decision::kAllow), 1u);
  EXPECT_EQ(devices_.refusals(Refusal::kMacMismatch), 1u);
  EXPECT_EQ(devices_.refusals(Refusal::kUnknownDevice), 1u);
  EXPECT_EQ(mixed_.refusals(Refusal::kMacMismatch), 0u);
  EXPECT_EQ(devices_.duration().count, 5u);
  EXPECT_EQ(mixed_.duration().count, 1u);
}

TEST_F(ListenerMetricsTest, AVendorTheRegistryDoesNotKnowCountsAsNone) {
  devices_.Count(devices_.Classify(Record("allow"), std::nullopt, "<script>"), true, microseconds(10));
  EXPECT_EQ(devices_.requests(2, Decision::kAllow), 1u);
}

TEST_F(ListenerMetricsTest, AFailedCommitCountsAsErrorAndNoRefusal) {
  devices_.Count(devices_.Classify(Record("deny"), Refusal::kUnknownFile, "yealink"), false, milliseconds(2));
  devices_.Count(devices_.Classify(Record("allow"), std::nullopt, "yealink"), false, milliseconds(2));
  EXPECT_EQ(devices_.requests(0, Decision::kError), 2u);
  EXPECT_EQ(devices_.requests(0, Decision::kDeny), 0u);
  EXPECT_EQ(devices_.refusals(Refusal::kUnknownFile), 0u);
}

TEST_F(ListenerMetricsTest, CountsHandshakeFailuresByKind) {
  devices_.CountHandshakeFailure(tls::HandshakeFailure::kUntrusted);
  devices_.CountHandshakeFailure(tls::HandshakeFailure::kUntrusted);
  devices_.CountHandshakeFailure(tls::HandshakeFailure::kNoCertificate);
  EXPECT_EQ(devices_.handshake_failures(tls::HandshakeFailure::kUntrusted), 2u);
  EXPECT_EQ(devices_.handshake_failures(tls::HandshakeFailure::kNoCertificate), 1u);
  EXPECT_EQ(devices_.handshake_failures(tls::HandshakeFailure::kExpired), 0u);
  EXPECT_EQ(mixed_.handshake_failures(tls::HandshakeFailure::kUntrusted), 0u);
}

}  // namespace
}  // namespace provgate::pipeline
