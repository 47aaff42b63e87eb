#include "audit/record_format.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace provgate::audit {
namespace {

// The store's indexed columns of a record: by these its events are listed per device.
store::StoredAuditEvent Stored(std::int64_t time, std::string kind, const std::string& device, const std::string& mac,
                               std::int64_t tenant_id, std::string decision, std::string reason, std::string json) {
  store::StoredAuditEvent e;
  e.time = time;
  if (tenant_id != 0) e.tenant_id = tenant_id;
  e.kind = std::move(kind);
  e.mac = !device.empty() ? device : mac;
  e.decision = std::move(decision);
  e.reason = std::move(reason);
  e.json = std::move(json);
  return e;
}

// One JSON object written straight into a string. Callers give keys in sorted order, the
// order nlohmann::json's map keeps, so lines read the same whoever wrote them.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  ~ObjectWriter() { out_.push_back('}'); }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  void Text(std::string_view key, std::string_view value) {
    Key(key);
    Quoted(value);
  }
  void TextIfAny(std::string_view key, std::string_view value) {
    if (!value.empty()) Text(key, value);
  }
  void Time(std::string_view key, TimePoint t) {
    Key(key);
    out_.push_back('"');
    AppendRfc3339(out_, t);
    out_.push_back('"');
  }
  template <typename Integer>
  void Number(std::string_view key, Integer value) {
    Key(key);
    fmt::format_to(std::back_inserter(out_), "{}", value);
  }
  void Millis(std::string_view key, double value) {
    Key(key);
    if (!std::isfinite(value)) {
      out_ += "null";  // JSON has no NaN or infinity (nlohmann wrote null too)
      return;
    }
    fmt::format_to(std::back_inserter(out_), "{:.3f}", value);  // microseconds are plenty
  }
  void Json(std::string_view key, const nlohmann::json& value) {
    Key(key);
    out_ += Dump(value);
  }
  // Opens a nested object under `key`; it closes when the returned writer goes.
  ObjectWriter Object(std::string_view key) {
    Key(key);
    return ObjectWriter(out_);
  }

 private:
  static std::string Dump(const nlohmann::json& value) {
    // error_handler::replace: a User-Agent with invalid UTF-8 must not make a record unwritable.
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  void Key(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    Quoted(key);
    out_.push_back(':');
  }
  // Printable ASCII without quotes or backslashes (nearly every field) is copied as it
  // is; anything else takes nlohmann's escaping, which also replaces invalid UTF-8.
  void Quoted(std::string_view s) {
    const bool plain =
        std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
    if (!plain) {
      out_ += Dump(nlohmann::json(std::string(s)));
      return;
    }
    out_.push_back('"');
    out_.append(s);
    out_.push_back('"');
  }

  std::string& out_;
  bool first_ = true;
};

}  // namespace

void AuditRecord::AppendJson(std::string& out, std::string_view run, std::int64_t seq, const store::DeviceSeen* seen,
                             const ChainPosition* chain) const {
  const bool request = kind == "request";
  ObjectWriter w(out);
  w.TextIfAny("actor", actor);
  if (request) w.Number("bytes", bytes);
  w.TextIfAny("cert_subject", cert_subject);
  if (chain != nullptr) {
    w.Text("chain_id", chain->id);
    w.TextIfAny("chain_link", chain->link);
    w.Number("chain_n", chain->n);
  }
  w.Text("decision", decision);
  if (!detail.empty()) w.Json("detail", detail);
  w.TextIfAny("device", device);
  if (request) w.Millis("duration_ms", duration_ms);
  w.TextIfAny("file", file);
  w.TextIfAny("identity_source", identity_source);
  w.Text("kind", kind);
  w.TextIfAny("listener", listener);
  w.TextIfAny("mac", mac);
  w.TextIfAny("method", method);
  w.TextIfAny("peer", peer);
  w.Text("reason", reason);
  w.TextIfAny("run", run);
  if (seen != nullptr) {
    ObjectWriter s = w.Object("seen");
    s.Number("device_id", seen->device_id);
    s.Text("firmware", seen->firmware);
    s.Text("ip", seen->ip);
    s.Number("time", seen->time);
    s.Text("user_agent", seen->user_agent);
  }
  if (!run.empty()) w.Number("seq", seq);
  if (request) w.Number("status", status);
  if (tenant_id != 0) w.Number("tenant_id", tenant_id);
  w.Time("time", time);
  w.TextIfAny("url_mac", url_mac);
  w.TextIfAny("user_agent", user_agent);
}

store::StoredAuditEvent StoredEvent(const AuditRecord& record, std::string line) {
  return Stored(ToUnix(record.time), record.kind, record.device, record.mac, record.tenant_id, record.decision,
                record.reason, std::move(line));
}

namespace {

std::optional<store::DeviceSeen> ParseSeen(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto integer = [&](const char* key) -> std::optional<std::int64_t> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX) return std::nullopt;
    return it->get<std::int64_t>();
  };
  const auto text = [&](const char* key) -> std::optional<std::string> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto id = integer("device_id");
  const auto time = integer("time");
  auto ip = text("ip");
  auto user_agent = text("user_agent");
  auto firmware = text("firmware");
  if (!id || !time || !ip || !user_agent || !firmware || *id <= 0 || *time < 0) return std::nullopt;
  return store::DeviceSeen{*id, *time, std::move(*ip), std::move(*user_agent), std::move(*firmware)};
}

}  // namespace

std::optional<StoredLine> ParseStoredLine(std::string_view line) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  // Absent fields are empty (AppendJson leaves them out); present ones must have their type.
  bool ok = true;
  auto text = [&](const char* key) {
    const auto it = j.find(key);
    if (it == j.end()) return std::string();
    if (!it->is_string()) {
      ok = false;
      return std::string();
    }
    return it->get<std::string>();
  };
  const auto time = ParseRfc3339(text("time"));
  std::string kind = text("kind");
  std::string decision = text("decision");
  std::string reason = text("reason");
  const std::string device = text("device");
  const std::string mac = text("mac");
  StoredLine out;
  out.run = text("run");
  if (const auto it = j.find("seq"); it != j.end()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > INT64_MAX) return std::nullopt;
    out.seq = it->get<std::int64_t>();
  }
  std::int64_t tenant_id = 0;
  if (const auto it = j.find("tenant_id"); it != j.end()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > INT64_MAX) return std::nullopt;
    tenant_id = it->get<std::int64_t>();
  }
  if (!ok || !time || kind.empty() || decision.empty()) return std::nullopt;
  if (const auto it = j.find("seen"); it != j.end()) out.seen = ParseSeen(*it);
  out.event = Stored(ToUnix(*time), std::move(kind), device, mac, tenant_id, std::move(decision), std::move(reason),
                     std::string(line));
  return out;
}

}  // namespace provgate::audit
