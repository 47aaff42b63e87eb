#include "audit/record.hpp"

#include "base/decimal.hpp"

namespace provgate::audit {

void AuditRecord::Clear() {
  time = {};
  kind.assign("request");
  for (std::string* s : {&listener, &peer, &method, &file, &user_agent, &identity_source, &cert_subject, &mac, &url_mac,
                         &device, &decision, &reason, &actor}) {
    s->clear();
  }
  status = 0;
  tenant_id = 0;
  bytes = 0;
  duration_ms = 0;
  detail = nullptr;
}

namespace {

// Where client text longer than kMaxClientTextBytes is cut: at the bound, moved back to the
// first byte of a UTF-8 sequence so that no character is halved.
size_t ClientTextCut(std::string_view text) {
  size_t cut = kMaxClientTextBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

void TruncateClientText(std::string& text) {
  if (text.size() <= kMaxClientTextBytes) return;
  const std::string whole = std::move(text);
  AssignClientText(text, whole);
}

void AssignClientText(std::string& field, std::string_view value) {
  if (value.size() <= kMaxClientTextBytes) {
    field.assign(value);
    return;
  }
  const size_t cut = ClientTextCut(value);
  field.assign(value.substr(0, cut)).append("...[+").append(Decimal(value.size() - cut).view()).append(" bytes]");
}

AuditRecord InfoRecord(TimePoint time, std::string kind, std::string actor, std::string what, std::string device,
                       nlohmann::json detail) {
  AuditRecord r;
  r.time = time;
  r.kind = std::move(kind);
  r.actor = std::move(actor);
  r.decision = "info";
  r.reason = std::move(what);
  r.device = std::move(device);
  r.detail = std::move(detail);
  return r;
}

}  // namespace provgate::audit
