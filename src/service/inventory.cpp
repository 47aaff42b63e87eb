// Shipping-manifest import for service::Admin (format: docs/lifecycle.md).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>

#include "service/admin.hpp"
#include "service/csv.hpp"

namespace provgate::service {
namespace {

constexpr int kMaxLines = 16;
constexpr std::string_view kLineFields[] = {"user", "auth_user", "registrar", "display_name", "port",
                                            "transport"};

// Where each known column sits in a row; -1 when absent.
struct Columns {
  int mac = -1, vendor = -1, model = -1, tenant = -1, serial = -1;
  // line index -> field name -> column
  std::map<int, std::map<std::string, int, std::less<>>> lines;
};

Result<Columns> MapHeader(const CsvRecord& header) {
  Columns c;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name = header.fields[i];
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const int col = static_cast<int>(i);
    int* simple = name == "mac" ? &c.mac : name == "vendor" ? &c.vendor : name == "model" ? &c.model
                  : name == "tenant" ? &c.tenant : name == "serial" ? &c.serial : nullptr;
    if (simple) {
      if (*simple >= 0) return Error::InvalidArgument(fmt::format("line 1: column '{}' appears twice", name));
      *simple = col;
      continue;
    }
    // lineN_<field>
    int index = 0;
    const auto underscore = name.find('_');
    if (name.rfind("line", 0) == 0 && underscore != std::string::npos) {
      const char* first = name.data() + 4;
      const char* last = name.data() + underscore;
      auto [ptr, ec] = std::from_chars(first, last, index);
      const std::string field = name.substr(underscore + 1);
      bool known = false;
      for (auto f : kLineFields) known = known || f == field;
      if (ec == std::errc() && ptr == last && index >= 1 && index <= kMaxLines && known) {
        if (c.lines[index].count(field)) {
          return Error::InvalidArgument(fmt::format("line 1: column '{}' appears twice", name));
        }
        c.lines[index][field] = col;
        continue;
      }
    }
    return Error::InvalidArgument(fmt::format(
        "line 1: unknown column '{}'; expected mac, vendor, model, tenant, serial and "
        "line<N>_user/auth_user/registrar/display_name/port/transport",
        header.fields[i]));
  }
  if (c.mac < 0 || c.vendor < 0 || c.model < 0) {
    return Error::InvalidArgument("line 1: the header must name at least the columns mac, vendor and model");
  }
  return c;
}

std::string Field(const CsvRecord& r, int col) {
  if (col < 0 || static_cast<size_t>(col) >= r.fields.size()) return "";
  return r.fields[static_cast<size_t>(col)];
}

}  // namespace

Result<ImportResult> Admin::ImportInventory(std::string_view csv,
                                            const std::function<void(size_t, size_t)>& progress) {
  PG_TRY(auto records, ParseCsv(csv));
  if (records.empty()) return Error::InvalidArgument("the file is empty; expected a header line");
  PG_TRY(Columns cols, MapHeader(records.front()));

  ImportResult result;
  std::vector<store::DeviceWithLines> rows;
  rows.reserve(records.size() - 1);
  std::unordered_map<std::string, size_t> seen;  // mac -> line of first occurrence
  std::map<std::string, std::optional<core::Tenant>> tenants;
  std::map<std::string, std::string> lint_verdicts;  // (tenant, vendor, model) -> errors
  bool told_foreign = false;  // a tenant-scoped caller was told of an existing MAC outside its tenant
  const auto now = ToUnix(clock_.Now());
  auto problem = [&result](size_t line, std::string reason) {
    result.problems.push_back({line, std::move(reason)});
  };

  // Pass 1: validate every row, collecting every problem; nothing is written.
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    if (rec.fields.size() != records.front().fields.size()) {
      problem(rec.line, fmt::format("has {} fields, the header has {}", rec.fields.size(),
                                    records.front().fields.size()));
      continue;
    }
    auto mac = core::MacAddress::Parse(Field(rec, cols.mac));
    if (!mac) {
      problem(rec.line, fmt::format("'{}' is not a MAC address", Field(rec, cols.mac)));
      continue;
    }
    if (auto [it, inserted] = seen.emplace(mac->str(), rec.line); !inserted) {
      problem(rec.line, fmt::format("MAC {} repeats line {}", mac->str(), it->second));
      continue;
    }
    const std::string vendor = Field(rec, cols.vendor);
    if (vendors_.Find(vendor) == nullptr) {
      problem(rec.line, fmt::format("unknown vendor '{}'", vendor));
      continue;
    }
    const std::string model = Field(rec, cols.model);
    if (model.empty() || model.size() > 64) {
      problem(rec.line, "model must be 1-64 characters");
      continue;
    }
    if (auto existing = store_.FindDevice(*mac); existing) {
      // MACs are global identifiers: that one exists is what POST /devices's 409 says to
      // anyone who may add devices, one MAC per request. A tenant-scoped import says it the
      // same way for one MAC outside the tenant at most (the import fails anyway), not for
      // every row of a file; further ones wait for the next attempt.
      const bool foreign = scope_ && existing->tenant_id != scope_->id;
      if (!foreign || !told_foreign) {
        problem(rec.line, fmt::format("device {} already exists{}", mac->str(),
                                      foreign ? " (an import names one such MAC outside the tenant per attempt)" : ""));
      }
      told_foreign = told_foreign || foreign;
      continue;
    } else if (existing.error().code != ErrorCode::kNotFound) {
      return existing.error();
    }
    store::DeviceWithLines row;
    core::Device& d = row.device;
    d.mac = *mac;
    d.vendor = vendor;
    d.model = model;
    d.serial = Field(rec, cols.serial);
    PG_TRY(d.admin_password, GenerateAdminPassword());
    const std::string tenant_name = Field(rec, cols.tenant);
    if (scope_ && tenant_name.empty()) {
      problem(rec.line, "tenant is required (a tenant-scoped operator imports into its own tenant)");
      continue;
    }
    const core::Tenant* tenant = nullptr;
    if (!tenant_name.empty()) {
      auto it = tenants.find(tenant_name);
      if (it == tenants.end()) {
        auto t = FindTenantInScope(tenant_name);
        if (!t && t.error().code != ErrorCode::kNotFound) return t.error();
        it = tenants.emplace(tenant_name, t ? std::optional(*t) : std::nullopt).first;
      }
      if (!it->second) {
        problem(rec.line, fmt::format("unknown tenant '{}'", tenant_name));
        continue;
      }
      tenant = &*it->second;
      d.tenant_id = tenant->id;
      d.state = core::DeviceState::kAssigned;
      d.window_opens = now;
      d.window_expires = now + std::int64_t{tenant->window_days} * 86400;
    }
    bool line_ok = true;
    for (const auto& [index, fields] : cols.lines) {
      auto get = [&](const char* f) {
        auto it = fields.find(f);
        return it == fields.end() ? std::string() : Field(rec, it->second);
      };
      core::Line l;
      l.index = index;
      l.user = get("user");
      l.registrar = get("registrar");
      l.auth_user = get("auth_user");
      l.display_name = get("display_name");
      if (l.user.empty() && l.registrar.empty()) continue;  // this device has fewer lines
      if (l.user.empty() || l.registrar.empty()) {
        problem(rec.line, fmt::format("line{} needs both user and registrar", index));
        line_ok = false;
        break;
      }
      if (const std::string port = get("port"); !port.empty()) {
        auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), l.port);
        if (ec != std::errc() || ptr != port.data() + port.size() || l.port < 1 || l.port > 65535) {
          problem(rec.line, fmt::format("line{}_port '{}' is not a port number", index, port));
          line_ok = false;
          break;
        }
      }
      if (const std::string t = get("transport"); !t.empty()) {
        auto parsed = core::ParseTransport(t);
        if (!parsed) {
          problem(rec.line, fmt::format("line{}_transport '{}' must be udp, tcp or tls", index, t));
          line_ok = false;
          break;
        }
        l.transport = *parsed;
      }
      PG_TRY(auto pw, GeneratePassword(tenant));
      l.password = std::move(pw);
      row.lines.push_back(std::move(l));
    }
    if (!line_ok) continue;
    // Rows carry no variables, so one device per (tenant, vendor, model) stands for all.
    if (tenant != nullptr) {
      const std::string combo = tenant_name + "\n" + vendor + "\n" + model;
      auto verdict = lint_verdicts.find(combo);
      if (verdict == lint_verdicts.end()) {
        const Status st = RefuseLintErrors(d, *tenant, row.lines);
        verdict = lint_verdicts.emplace(combo, st ? std::string() : st.error().message).first;
      }
      if (!verdict->second.empty()) {
        problem(rec.line, verdict->second);
        continue;
      }
    }
    rows.push_back(std::move(row));
  }
  if (!result.problems.empty()) return result;
  // The rows hold everything pass 2 needs; a million-row file need not stay in memory twice.
  std::vector<CsvRecord>().swap(records);
  decltype(seen)().swap(seen);

  // Pass 2: one transaction.
  const size_t total = rows.size();
  PG_TRY_STATUS(store_.ImportDevices(rows, [&](size_t done) {
    if (progress) progress(done, total);
  }));
  result.imported = total;
  // One lifecycle record per device, written in batches (one fsync and one store
  // transaction each) small enough that a million-row import does not hold every record.
  constexpr size_t kAuditChunk = 10'000;
  std::vector<audit::AuditRecord> audit_records;
  audit_records.reserve(std::min(total, kAuditChunk) + 1);
  for (const auto& row : rows) {
    auto r = audit::InfoRecord(clock_.Now(), "lifecycle", actor_,
                               row.device.tenant_id ? "assigned" : "stocked", row.device.mac.str(),
                               {{"cause", "inventory import"}, {"vendor", row.device.vendor},
                                {"model", row.device.model}, {"lines", row.lines.size()}});
    if (row.device.window_expires) r.detail["window_expires"] = *row.device.window_expires;
    r.tenant_id = row.device.tenant_id.value_or(0);
    audit_records.push_back(std::move(r));
    if (audit_records.size() == kAuditChunk) {
      PG_TRY_STATUS(audit_.WriteBatch(audit_records, audit::Durability::kDurable));
      audit_records.clear();
    }
  }
  audit_records.push_back(audit::InfoRecord(clock_.Now(), "admin", actor_, "inventory imported", "",
                                            {{"devices", total}}));
  audit_records.back().tenant_id = scope_ ? scope_->id : 0;
  PG_TRY_STATUS(audit_.WriteBatch(audit_records, audit::Durability::kDurable));
  return result;
}

}  // namespace provgate::service
