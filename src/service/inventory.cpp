// Shipping-manifest import for service::Admin (service/inventory.hpp; format: docs/lifecycle.md).
#include "service/inventory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

namespace provgate::service {

constexpr int kMaxLines = 16;
constexpr std::string_view kLineFields[] = {"user", "auth_user", "registrar", "display_name", "port", "transport"};

// Where each known column sits in a row; -1 when absent.
struct InventoryImport::Columns {
  size_t count = 0;  // fields of the header, which every row must have
  int mac = -1, vendor = -1, model = -1, tenant = -1, serial = -1;
  // line index -> field name -> column
  std::map<int, std::map<std::string, int, std::less<>>> lines;
};

struct InventoryImport::ParsedRow {
  store::DeviceWithLines row;
  const core::Tenant* tenant = nullptr;
  std::string problem;  // non-empty: the row is bad
};

namespace {

using Columns = InventoryImport::Columns;

Result<Columns> MapHeader(const CsvRecord& header) {
  Columns c;
  c.count = header.fields.size();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name = header.fields[i];
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const int col = static_cast<int>(i);
    int* simple = name == "mac"      ? &c.mac
                  : name == "vendor" ? &c.vendor
                  : name == "model"  ? &c.model
                  : name == "tenant" ? &c.tenant
                  : name == "serial" ? &c.serial
                                     : nullptr;
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
    return Error::InvalidArgument(
        fmt::format("line 1: unknown column '{}'; expected mac, vendor, model, tenant, serial and "
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

// The 48 bits of a canonical MAC (12 hex digits) as an index key.
std::uint64_t MacKey(const core::MacAddress& mac) {
  std::uint64_t key = 0;
  const std::string& hex = mac.str();
  (void)std::from_chars(hex.data(), hex.data() + hex.size(), key, 16);
  return key;
}

// The spooled manifest read back from its start, one record at a time, header included.
class SpoolRecords {
 public:
  explicit SpoolRecords(std::FILE* spool) : spool_(spool), buffer_(64 * 1024) { std::rewind(spool_); }

  Result<std::optional<CsvRecord>> Next() {
    for (;;) {
      PG_TRY(auto record, reader_.Next());
      if (record || end_) return record;
      const size_t n = std::fread(buffer_.data(), 1, buffer_.size(), spool_);
      if (n < buffer_.size()) {
        if (std::ferror(spool_)) return Error::Unavailable("cannot read the spooled manifest back");
        end_ = true;
      }
      reader_.Feed(std::string_view(buffer_.data(), n));
      if (end_) reader_.Finish();
    }
  }

 private:
  std::FILE* spool_;
  std::vector<char> buffer_;
  CsvReader reader_;
  bool end_ = false;
};

}  // namespace

Result<std::unique_ptr<InventoryImport>> Admin::StartImport() {
  std::FILE* spool = std::tmpfile();
  if (spool == nullptr) {
    return Error::Unavailable(fmt::format("cannot create a temporary file for the import: {}", std::strerror(errno)));
  }
  return std::unique_ptr<InventoryImport>(new InventoryImport(*this, InventoryImport::Spool(spool)));
}

InventoryImport::InventoryImport(Admin& admin, Spool spool)
    : admin_(admin), spool_(std::move(spool)), now_(ToUnix(admin.clock_.Now())) {}

InventoryImport::~InventoryImport() = default;

Status InventoryImport::Feed(std::string_view bytes) {
  if (error_) return *error_;
  if (std::fwrite(bytes.data(), 1, bytes.size(), spool_.get()) != bytes.size()) {
    error_ = Error::Unavailable(fmt::format("cannot spool the manifest to a temporary file: {}", std::strerror(errno)));
    return *error_;
  }
  reader_.Feed(bytes);
  return Drain();
}

Status InventoryImport::Drain() {
  for (;;) {
    auto record = reader_.Next();
    if (!record) {
      error_ = record.error();
      return *error_;
    }
    if (!*record) return Ok();
    if (auto st = Check(**record); !st) {
      error_ = st.error();
      return *error_;
    }
  }
}

void InventoryImport::Problem(size_t line, std::string reason) {
  if (result_.problems.size() < kMaxListedImportProblems) result_.problems.push_back({line, std::move(reason)});
  ++result_.problem_count;
}

Result<const core::Tenant*> InventoryImport::TenantNamed(const std::string& name) {
  if (auto it = tenants_.find(name); it != tenants_.end()) return &it->second;
  // Only tenants found are kept: names of unknown ones cost a lookup each, not memory.
  auto t = admin_.FindTenantInScope(name);
  if (!t) {
    if (t.error().code != ErrorCode::kNotFound) return t.error();
    return static_cast<const core::Tenant*>(nullptr);
  }
  return &tenants_.emplace(name, std::move(*t)).first->second;
}

// Pass 1, one record: the header maps the columns; every other record is a row to check.
Status InventoryImport::Check(const CsvRecord& rec) {
  if (!columns_) {
    PG_TRY(auto cols, MapHeader(rec));
    columns_ = std::make_unique<Columns>(std::move(cols));
    return Ok();
  }
  if (++rows_ > kMaxImportRows) {
    return Error::InvalidArgument(
        fmt::format("line {}: a manifest holds at most {} rows; split it", rec.line, kMaxImportRows));
  }
  if (rec.fields.size() != columns_->count) {
    Problem(rec.line, fmt::format("has {} fields, the header has {}", rec.fields.size(), columns_->count));
    return Ok();
  }
  if (auto mac = core::MacAddress::Parse(Field(rec, columns_->mac))) {
    if (auto [it, inserted] = seen_.emplace(MacKey(*mac), rec.line); !inserted) {
      Problem(rec.line, fmt::format("MAC {} repeats line {}", mac->str(), it->second));
      return Ok();
    }
  }
  PG_TRY(ParsedRow parsed, Parse(rec));
  if (!parsed.problem.empty()) {
    Problem(rec.line, std::move(parsed.problem));
    return Ok();
  }
  const core::Device& d = parsed.row.device;
  if (auto existing = admin_.store_.FindDevice(d.mac); existing) {
    // MACs are global identifiers: that one exists is what POST /devices's 409 says to
    // anyone who may add devices, one MAC per request. A tenant-scoped import says it the
    // same way for one MAC outside the tenant at most (the import fails anyway), not for
    // every row of a file; further ones wait for the next attempt.
    const auto& scope = admin_.scope_;
    const bool foreign = scope && existing->tenant_id != scope->id;
    if (!foreign || !told_foreign_) {
      Problem(rec.line, fmt::format("device {} already exists{}", d.mac.str(),
                                    foreign ? " (an import names one such MAC outside the tenant per attempt)" : ""));
    }
    told_foreign_ = told_foreign_ || foreign;
    return Ok();
  } else if (existing.error().code != ErrorCode::kNotFound) {
    return existing.error();
  }
  // Rows carry no variables, so one device per (tenant, vendor, model) stands for all.
  if (parsed.tenant != nullptr) {
    const std::string combo = parsed.tenant->name + "\n" + d.vendor + "\n" + d.model;
    auto verdict = lint_verdicts_.find(combo);
    if (verdict == lint_verdicts_.end()) {
      const Status st = admin_.RefuseLintErrors(d, *parsed.tenant, parsed.row.lines);
      verdict = lint_verdicts_.emplace(combo, st ? std::string() : st.error().message).first;
    }
    if (!verdict->second.empty()) Problem(rec.line, verdict->second);
  }
  return Ok();
}

Result<InventoryImport::ParsedRow> InventoryImport::Parse(const CsvRecord& rec) {
  const Columns& cols = *columns_;
  ParsedRow out;
  auto bad = [&out](std::string problem) {
    out.problem = std::move(problem);
    return std::move(out);
  };
  auto mac = core::MacAddress::Parse(Field(rec, cols.mac));
  if (!mac) return bad(fmt::format("'{}' is not a MAC address", Field(rec, cols.mac)));
  core::Device& d = out.row.device;
  d.mac = *mac;
  d.vendor = Field(rec, cols.vendor);
  if (admin_.vendors_.Find(d.vendor) == nullptr) return bad(fmt::format("unknown vendor '{}'", d.vendor));
  d.model = Field(rec, cols.model);
  if (d.model.empty() || d.model.size() > 64) return bad("model must be 1-64 characters");
  d.serial = Field(rec, cols.serial);
  const std::string tenant_name = Field(rec, cols.tenant);
  if (admin_.scope_ && tenant_name.empty()) {
    return bad("tenant is required (a tenant-scoped operator imports into its own tenant)");
  }
  if (!tenant_name.empty()) {
    PG_TRY(out.tenant, TenantNamed(tenant_name));
    if (out.tenant == nullptr) return bad(fmt::format("unknown tenant '{}'", tenant_name));
    d.tenant_id = out.tenant->id;
    d.state = core::DeviceState::kAssigned;
    d.window_opens = now_;
    d.window_expires = now_ + std::int64_t{out.tenant->window_days} * 86400;
  }
  for (const auto& [index, line_fields] : cols.lines) {
    const auto& fields = line_fields;  // lambdas capture a structured binding only from clang 16 on
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
    if (l.user.empty() || l.registrar.empty()) return bad(fmt::format("line{} needs both user and registrar", index));
    if (const std::string port = get("port"); !port.empty()) {
      auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), l.port);
      if (ec != std::errc() || ptr != port.data() + port.size() || l.port < 1 || l.port > 65535) {
        return bad(fmt::format("line{}_port '{}' is not a port number", index, port));
      }
    }
    if (const std::string t = get("transport"); !t.empty()) {
      auto parsed = core::ParseTransport(t);
      if (!parsed) return bad(fmt::format("line{}_transport '{}' must be udp, tcp or tls", index, t));
      l.transport = *parsed;
    }
    out.row.lines.push_back(std::move(l));
  }
  return out;
}

Result<ImportResult> InventoryImport::Finish(const std::function<void(size_t, size_t)>& progress) {
  if (error_) return *error_;
  reader_.Finish();
  PG_TRY_STATUS(Drain());
  if (!columns_) return Error::InvalidArgument("the file is empty; expected a header line");
  if (result_.problem_count > 0) return result_;
  // The index served pass 1 only.
  decltype(seen_)().swap(seen_);
  if (std::fflush(spool_.get()) != 0) return Error::Unavailable("cannot spool the manifest to a temporary file");
  PG_TRY_STATUS(WriteRows(progress));
  result_.imported = rows_;
  PG_TRY_STATUS(AuditRows());
  return result_;
}

// Pass 2: the checked rows into one store transaction, each with its new secrets.
Status InventoryImport::WriteRows(const std::function<void(size_t, size_t)>& progress) {
  SpoolRecords records(spool_.get());
  PG_TRY(auto header, records.Next());
  (void)header;
  auto next = [&]() -> Result<std::optional<store::DeviceWithLines>> {
    PG_TRY(auto record, records.Next());
    if (!record) return std::optional<store::DeviceWithLines>();
    PG_TRY(ParsedRow parsed, Parse(*record));
    if (!parsed.problem.empty()) {
      return Error::Internal(fmt::format("line {}: checked, then refused: {}", record->line, parsed.problem));
    }
    PG_TRY(parsed.row.device.admin_password, GenerateAdminPassword());
    for (core::Line& l : parsed.row.lines) {
      PG_TRY(auto pw, admin_.GeneratePassword(parsed.tenant));
      l.password = std::move(pw);
    }
    return std::optional<store::DeviceWithLines>(std::move(parsed.row));
  };
  return admin_.store_.ImportDeviceRows(next, [&](size_t done) {
    if (progress) progress(done, rows_);
  });
}

// Pass 3: one lifecycle record per device, written in batches (one fsync and one store
// transaction each) small enough that a large import does not hold every record.
Status InventoryImport::AuditRows() {
  constexpr size_t kAuditChunk = 10'000;
  std::vector<audit::AuditRecord> batch;
  batch.reserve(std::min(rows_, kAuditChunk) + 1);
  SpoolRecords records(spool_.get());
  PG_TRY(auto header, records.Next());
  (void)header;
  for (;;) {
    PG_TRY(auto record, records.Next());
    if (!record) break;
    PG_TRY(ParsedRow parsed, Parse(*record));
    const core::Device& d = parsed.row.device;
    auto r = audit::InfoRecord(
        admin_.clock_.Now(), "lifecycle", admin_.actor_, d.tenant_id ? "assigned" : "stocked", d.mac.str(),
        {{"cause", "inventory import"}, {"vendor", d.vendor}, {"model", d.model}, {"lines", parsed.row.lines.size()}});
    if (d.window_expires) r.detail["window_expires"] = *d.window_expires;
    r.tenant_id = d.tenant_id.value_or(0);
    batch.push_back(std::move(r));
    if (batch.size() == kAuditChunk) {
      PG_TRY_STATUS(admin_.audit_.WriteBatch(batch, audit::Durability::kDurable));
      batch.clear();
    }
  }
  batch.push_back(
      audit::InfoRecord(admin_.clock_.Now(), "admin", admin_.actor_, "inventory imported", "", {{"devices", rows_}}));
  batch.back().tenant_id = admin_.scope_ ? admin_.scope_->id : 0;
  return admin_.audit_.WriteBatch(batch, audit::Durability::kDurable);
}

}  // namespace provgate::service
