#include "pipeline/refusal.hpp"

namespace provgate::pipeline {

std::string Refused::AuditReason() const {
  std::string reason(RefusalName(why));
  if (!detail.empty()) reason.append(": ").append(detail);
  return reason;
}

}  // namespace provgate::pipeline
