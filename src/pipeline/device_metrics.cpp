#include "pipeline/device_metrics.hpp"

#include <algorithm>

namespace provgate::pipeline {

ListenerMetrics::ListenerMetrics(std::string name, const std::vector<std::string>& vendors)
    : name_(std::move(name)),
      vendors_(vendors),
      requests_(std::make_unique<std::atomic<std::uint64_t>[]>(vendors.size() * kDecisionNames.size())) {}

RequestSample ListenerMetrics::Classify(const audit::AuditRecord& record, std::optional<Refusal> refusal,
                                        std::string_view vendor) const {
  RequestSample sample;
  if (record.decision == "allow") {
    sample.decision = Decision::kAllow;
  } else if (refusal) {
    sample.decision = Decision::kDeny;
    sample.reason = *refusal;
  }
  const size_t none = vendors_.size() - 1;
  size_t v = none;
  if (!vendor.empty()) {
    v = static_cast<size_t>(std::find(vendors_.begin(), vendors_.end() - 1, vendor) - vendors_.begin());
  }
  sample.vendor = static_cast<std::uint16_t>(v);
  return sample;
}

void ListenerMetrics::Count(const RequestSample& sample, bool committed, std::chrono::nanoseconds took) {
  const Decision decision = committed ? sample.decision : Decision::kError;
  const size_t vendor = std::min<size_t>(sample.vendor, vendors_.size() - 1);
  requests_[vendor * kDecisionNames.size() + static_cast<size_t>(decision)].fetch_add(1, std::memory_order_relaxed);
  if (decision == Decision::kDeny) {
    refusals_[static_cast<size_t>(sample.reason)].fetch_add(1, std::memory_order_relaxed);
  }
  duration_.Observe(took);
}

void ListenerMetrics::CountHandshakeFailure(tls::HandshakeFailure why) {
  handshake_failures_[static_cast<size_t>(why)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t ListenerMetrics::requests(size_t vendor, Decision decision) const {
  return requests_[vendor * kDecisionNames.size() + static_cast<size_t>(decision)].load(std::memory_order_relaxed);
}

std::uint64_t ListenerMetrics::refusals(Refusal reason) const {
  return refusals_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
}

std::uint64_t ListenerMetrics::handshake_failures(tls::HandshakeFailure why) const {
  return handshake_failures_[static_cast<size_t>(why)].load(std::memory_order_relaxed);
}

DeviceMetrics::DeviceMetrics(const std::vector<std::string>& listeners, std::vector<std::string> vendors)
    : vendors_(std::move(vendors)) {
  vendors_.emplace_back("none");
  for (const auto& name : listeners) {
    // Listeners that share a name share their series.
    if (ForListener(name) == nullptr) listeners_.push_back(std::make_unique<ListenerMetrics>(name, vendors_));
  }
}

ListenerMetrics* DeviceMetrics::ForListener(std::string_view name) {
  for (auto& l : listeners_) {
    if (l->name() == name) return l.get();
  }
  return nullptr;
}

}  // namespace provgate::pipeline
