#include "pipeline/device_metrics.hpp"

#include <gtest/gtest.h>

namespace provgate::pipeline {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

audit::AuditRecord Record(std::string decision, std::string reason) {
  audit::AuditRecord r;
  r.decision = std::move(decision);
  r.reason = std::move(reason);
  return r;
}

size_t Reason(std::string_view label) {
  return static_cast<size_t>(std::find(kRefusalReasons.begin(), kRefusalReasons.end(), label) -
                             kRefusalReasons.begin());
}

TEST(RefusalReasonIndex, LabelsByTheTextBeforeTheColon) {
  EXPECT_EQ(kRefusalReasons[RefusalReasonIndex("device locked: stolen \"phone\"")], "device locked");
  EXPECT_EQ(kRefusalReasons[RefusalReasonIndex("below policy: token < client-cert")], "below policy");
  EXPECT_EQ(kRefusalReasons[RefusalReasonIndex("withheld by lint: L001 in y000000000096.cfg")], "withheld by lint");
  EXPECT_EQ(kRefusalReasons[RefusalReasonIndex("unknown vendor: acme")], "unknown vendor");
  EXPECT_EQ(kRefusalReasons[RefusalReasonIndex("mac mismatch")], "mac mismatch");
  EXPECT_EQ(kRefusalReasons[RefusalReasonIndex("user-agent mac mismatch")], "user-agent mac mismatch");
}

TEST(RefusalReasonIndex, AnythingNotInTheTableIsOther) {
  for (std::string_view text : {"", "/<script>.cfg", "certificate expired since its TLS session began",
                                "MAC in certificate", "mac mismatch ", "other"}) {
    EXPECT_EQ(kRefusalReasons[RefusalReasonIndex(text)], "other") << text;
  }
}

TEST(RefusalReasons, AreDistinct) {
  for (size_t i = 0; i < kRefusalReasons.size(); ++i) EXPECT_EQ(Reason(kRefusalReasons[i]), i);
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
  devices_.Count(devices_.Classify(Record("allow", "device file"), "yealink"), true, milliseconds(1));
  devices_.Count(devices_.Classify(Record("allow", "common file"), "yealink"), true, milliseconds(1));
  devices_.Count(devices_.Classify(Record("deny", "mac mismatch"), "polycom"), true, milliseconds(1));
  devices_.Count(devices_.Classify(Record("deny", "unknown device"), ""), true, milliseconds(1));
  devices_.Count(devices_.Classify(Record("error", "internal error: disk I/O error"), ""), true, milliseconds(1));
  mixed_.Count(mixed_.Classify(Record("allow", "device file"), "polycom"), true, milliseconds(1));
  EXPECT_EQ(devices_.requests(0, Decision::kAllow), 2u);
  EXPECT_EQ(devices_.requests(1, Decision::kDeny), 1u);
  EXPECT_EQ(devices_.requests(2, Decision::kDeny), 1u);   // none
  EXPECT_EQ(devices_.requests(2, Decision::kError), 1u);
  EXPECT_EQ(devices_.requests(1, Decision::kAllow), 0u);
  EXPECT_EQ(mixed_.requests(1, Decision::kAllow), 1u);
  EXPECT_EQ(devices_.refusals(Reason("mac mismatch")), 1u);
  EXPECT_EQ(devices_.refusals(Reason("unknown device")), 1u);
  EXPECT_EQ(mixed_.refusals(Reason("mac mismatch")), 0u);
  EXPECT_EQ(devices_.duration().count, 5u);
  EXPECT_EQ(mixed_.duration().count, 1u);
}

TEST_F(ListenerMetricsTest, AVendorTheRegistryDoesNotKnowCountsAsNone) {
  devices_.Count(devices_.Classify(Record("allow", "device file"), "<script>"), true, microseconds(10));
  EXPECT_EQ(devices_.requests(2, Decision::kAllow), 1u);
}

TEST_F(ListenerMetricsTest, AFailedCommitCountsAsErrorAndNoRefusal) {
  devices_.Count(devices_.Classify(Record("deny", "unknown file"), "yealink"), false, milliseconds(2));
  devices_.Count(devices_.Classify(Record("allow", "device file"), "yealink"), false, milliseconds(2));
  EXPECT_EQ(devices_.requests(0, Decision::kError), 2u);
  EXPECT_EQ(devices_.requests(0, Decision::kDeny), 0u);
  EXPECT_EQ(devices_.refusals(Reason("unknown file")), 0u);
}

TEST_F(ListenerMetricsTest, RefusalsWithClientTextCountUnderTheirFixedLabel) {
  devices_.Count(devices_.Classify(Record("deny", "device locked: </script>\""), "yealink"), true, milliseconds(1));
  devices_.Count(devices_.Classify(Record("deny", "no MAC rule matched: \"x\""), "yealink"), true, milliseconds(1));
  EXPECT_EQ(devices_.refusals(Reason("device locked")), 1u);
  EXPECT_EQ(devices_.refusals(Reason("other")), 1u);
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
