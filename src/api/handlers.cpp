// Handlers of the tenant, device, line and variable routes. Each reads its input, calls the
// domain layer (ctx.admin, scoped to the key's tenant) and shapes the answer; the domain
// layer owns every rule. Secrets appear only in the responses of the POST/PUT that create
// them.
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>

#include "api/context.hpp"
#include "api/json_body.hpp"
#include "api/views.hpp"
#include "crypto/random.hpp"
#include "service/inventory.hpp"
#include "service/lint.hpp"
#include "service/queries.hpp"
#include "service/vars.hpp"

namespace provgate::api {
namespace {

// The body as an object; an absent body reads as {} so that required fields are named.
Result<nlohmann::json> JsonOk(nlohmann::json j) {
  // Explicit in_place: json converts implicitly to almost anything, Error included.
  return Result<nlohmann::json>(boost::system::in_place_value, std::move(j));
}

Result<nlohmann::json> Body(const Api::Context& ctx) {
  if (ctx.request.body.empty()) return Result<nlohmann::json>(boost::system::in_place_value, nlohmann::json::object());
  return ParseJsonObject(ctx.request.body);
}

service::TenantScope ScopeOf(const core::Tenant& t) { return {t.id, t.name}; }

// The device as the API shows it (no secrets), for the response and the audit record;
// `tenant`, when given, is set to the device's tenant (nullopt for a device in stock).
Result<nlohmann::json> DeviceView(service::Admin& admin, const std::string& mac,
                                  std::optional<service::TenantScope>* tenant = nullptr) {
  PG_TRY(auto d, admin.ShowDevice(mac));
  if (tenant) *tenant = d.tenant ? std::optional(ScopeOf(*d.tenant)) : std::nullopt;
  return JsonOk(DeviceJson(d.device, d.tenant ? d.tenant->name : ""));
}

Result<core::Tenant> TenantNamed(service::Admin& admin, const std::string& name) {
  PG_TRY(auto all, admin.ListTenants());
  for (auto& t : all) {
    if (t.name == name) return std::move(t);
  }
  return Error::NotFound("unknown tenant '" + name + "'");
}

nlohmann::json FindingsJson(const std::vector<service::DeviceFindings>& devices) {
  auto out = nlohmann::json::array();
  for (const auto& d : devices) {
    auto findings = nlohmann::json::array();
    for (const auto& f : d.findings) {
      findings.push_back({{"file", f.file},
                          {"rule", f.rule_id},
                          {"severity", std::string(lint::SeverityName(f.severity))},
                          {"key", f.key},
                          {"message", f.message},
                          {"fix", f.fix_hint}});
    }
    out.push_back({{"mac", d.mac}, {"vendor", d.vendor}, {"model", d.model}, {"findings", findings}});
  }
  return out;
}

// {"set": {"key": scalar}, "unset": ["key"], "force": bool} as the domain layer's change.
Result<service::VarsChange> ReadVarsChange(const nlohmann::json& body, std::optional<Problem>& problem) {
  BodyReader r(body);
  service::VarsChange change;
  r.Strings("unset", 256, 128);
  r.Bool("force");
  if (auto it = body.find("set"); it != body.end()) {
    if (!it->is_object() || it->size() > 256) {
      problem = FieldProblem("set", "must be an object of at most 256 variables");
      return change;
    }
    for (const auto& [key, value] : it->items()) {
      std::string text;
      if (value.is_string()) {
        // Quoted, so that "true" or "42" stay strings (service::ParseVarValue).
        text = "\"" + value.get<std::string>() + "\"";
      } else if (value.is_boolean() || value.is_number_integer()) {
        text = value.dump();
      } else {
        problem = FieldProblem("set." + key.substr(0, 128), "must be a string, an integer or true/false");
        return change;
      }
      change.set.push_back(key + "=" + text);
    }
  }
  r.Known("set");  // read above
  if (auto p = r.Finish()) {
    problem = *p;
    return change;
  }
  if (auto unset = body.find("unset"); unset != body.end()) change.unset = unset->get<std::vector<std::string>>();
  if (auto force = body.find("force"); force != body.end()) {
    change.force = force->get<bool>() ? service::Force::kYes : service::Force::kNo;
  }
  return change;
}

ApiResponse VarsOutcomeResponse(const service::VarsOutcome& out) {
  nlohmann::json j = {{"saved", out.saved},
                      {"keys_set", out.keys_set},
                      {"keys_unset", out.keys_unset},
                      {"introduced_findings", FindingsJson(out.introduced)}};
  if (out.saved) return JsonResponse(200, j);
  // Refused by the linter: a problem that lists the findings the change would introduce.
  j = {{"type", "about:blank"},
       {"title", "Unprocessable Entity"},
       {"status", 422},
       {"detail", "the change introduces error-severity lint findings; fix them or send \"force\": true"},
       {"introduced_findings", FindingsJson(out.introduced)}};
  ApiResponse r = JsonResponse(422, j);
  r.content_type = "application/problem+json";
  return r;
}

// The shared shape of a variables change. The audit record shows the values of the keys the
// change names, before and after (masked, null when unset), never the whole layer: a record
// costs what the change costs.
template <class Read, class Apply>
ApiResponse ChangeVars(Api::Context& ctx, const service::VarsChange& change, Read&& read, Apply&& apply) {
  auto before = read();
  if (!before) return Failed(before.error());
  const auto keys = service::ChangedKeys(change);
  ctx.before = {{"vars", service::VarsAt(*before, keys)}};
  auto out = apply();
  if (!out) return Failed(out.error(), {"set", "unset"});
  if (auto after = read()) ctx.after = {{"vars", service::VarsAt(*after, keys)}};
  return VarsOutcomeResponse(*out);
}

std::optional<service::CredentialKind> CredentialOf(const std::string& kind) {
  if (kind == "url-token") return service::CredentialKind::kUrlToken;
  if (kind == "digest-password") return service::CredentialKind::kDigestPassword;
  if (kind == "config-key") return service::CredentialKind::kConfigKey;
  return std::nullopt;
}

}  // namespace

// --- Tenants ---

ApiResponse Api::ListTenants(Context& ctx) {
  auto all = ctx.admin->ListTenants();
  if (!all) return Failed(all.error());
  auto items = nlohmann::json::array();
  for (const auto& t : *all) items.push_back(TenantJson(t));
  return JsonResponse(200, {{"items", items}});
}

ApiResponse Api::AddTenant(Context& ctx) {
  auto body = Body(ctx);
  if (!body) return Failed(body.error());
  BodyReader r(*body);
  r.Require("name");
  auto name = r.String("name", 64);
  auto display = r.String("display_name", 200);
  auto window = r.Int("window_days", 1, 365);
  if (auto p = r.Finish()) return ToResponse(*p);
  auto t = ctx.admin->AddTenant(*name, display.value_or(""), static_cast<int>(window.value_or(14)));
  if (!t) {
    if (t.error().code == ErrorCode::kInvalidArgument && t.error().message.starts_with("tenant name")) {
      return ToResponse(FieldProblem("name", t.error().message));
    }
    return Failed(t.error(), {"name", "display_name", "window_days"});
  }
  ctx.audit_tenant = ScopeOf(*t);
  ctx.after = TenantJson(*t);
  return JsonResponse(201, ctx.after);
}

ApiResponse Api::GetTenant(Context& ctx) {
  auto t = TenantNamed(*ctx.admin, ctx.param("tenant"));
  if (!t) return Failed(t.error());
  return JsonResponse(200, TenantJson(*t));
}

ApiResponse Api::UpdateTenant(Context& ctx) {
  auto body = Body(ctx);
  if (!body) return Failed(body.error());
  BodyReader r(*body);
  service::TenantPolicyChange c;
  auto narrow = [](std::optional<std::int64_t> v) {
    return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
  };
  // Wide integer ranges here; the domain layer holds the real limits and names them.
  c.window_days = narrow(r.Int("window_days", -100000, 100000));
  c.password_policy = r.String("password_policy", 32);
  c.confirm_grace_seconds = narrow(r.Int("confirm_grace_seconds", -1, 100'000'000));
  c.password_length = narrow(r.Int("password_length", -1, 100000));
  c.password_alphabet = r.String("password_alphabet", 256);
  c.retention_days = narrow(r.Int("retention_days", -1, 100000));
  c.min_strength = r.String("min_strength", 32);
  c.ip_ranges = r.Strings("ip_ranges", 256, 64);
  c.ip_as_identity = r.Bool("ip_as_identity");
  c.allow_plain_http = r.Bool("allow_plain_http");
  c.anomaly_lock = r.Bool("anomaly_lock");
  c.lock_on_misuse = r.Bool("lock_on_misuse");
  if (auto p = r.Finish()) return ToResponse(*p);
  const auto& name = ctx.param("tenant");
  auto before = TenantNamed(*ctx.admin, name);
  if (!before) return Failed(before.error());
  ctx.audit_tenant = ScopeOf(*before);
  ctx.before = TenantJson(*before);
  auto t = ctx.admin->UpdateTenantPolicy(name, c);
  if (!t) {
    return Failed(t.error(), {"window_days", "password_policy", "confirm_grace_seconds", "password_length",
                              "password_alphabet", "retention_days", "min_strength", "ip_ranges", "ip_as_identity"});
  }
  ctx.after = TenantJson(*t);
  return JsonResponse(200, ctx.after);
}

ApiResponse Api::GetTenantVars(Context& ctx) {
  auto vars = ctx.admin->TenantVars(ctx.param("tenant"));
  if (!vars) return Failed(vars.error());
  return JsonResponse(200, {{"vars", *vars}});
}

ApiResponse Api::ChangeTenantVars(Context& ctx) {
  auto body = Body(ctx);
  if (!body) return Failed(body.error());
  std::optional<Problem> problem;
  auto change = ReadVarsChange(*body, problem);
  if (problem) return ToResponse(*problem);
  const auto& name = ctx.param("tenant");
  if (auto tenant = TenantNamed(*ctx.admin, name)) ctx.audit_tenant = ScopeOf(*tenant);
  service::Linter linter(deps_.store, deps_.vendors, deps_.templates, deps_.provisioning_url);
  return ChangeVars(
      ctx, *change, [&] { return ctx.admin->TenantVars(name); },
      [&] { return ctx.admin->ChangeTenantVars(linter, name, *change); });
}

// --- Devices ---

ApiResponse Api::ListDevices(Context& ctx) {
  service::DeviceListRequest req;
  auto& q = ctx.query;
  req.tenant = q.Text("tenant", 64);
  req.state = q.Text("state", 32);
  req.vendor = q.Text("vendor", 64);
  req.model = q.Text("model", 64);
  req.locked = q.Bool("locked");
  req.seen_since = q.Time("seen_since");
  req.seen_before = q.Time("seen_before");
  req.cursor = q.Text("cursor", 64);
  req.limit = static_cast<int>(q.Int("limit", 1, service::kMaxPageSize).value_or(service::kDefaultPageSize));
  if (q.problem()) return ToResponse(*q.problem());
  service::Queries queries(deps_.store, deps_.operator_store, deps_.clock, ctx.principal->tenant);
  auto page = queries.Devices(req);
  if (!page) return Failed(page.error(), {"tenant", "state", "vendor", "model", "cursor", "limit"});
  auto items = nlohmann::json::array();
  for (size_t i = 0; i < page->devices.size(); ++i)
    items.push_back(DeviceJson(page->devices[i], page->tenant_names[i]));
  return JsonResponse(
      200, {{"items", items},
            {"next_cursor", page->next_cursor.empty() ? nlohmann::json(nullptr) : nlohmann::json(page->next_cursor)}});
}

ApiResponse Api::AddDevice(Context& ctx) {
  auto body = Body(ctx);
  if (!body) return Failed(body.error());
  BodyReader r(*body);
  r.Require("mac");
  r.Require("vendor");
  r.Require("model");
  service::NewDevice d;
  d.mac = r.String("mac", 64).value_or("");
  d.vendor = r.String("vendor", 64).value_or("");
  d.model = r.String("model", 64).value_or("");
  d.serial = r.String("serial", 64).value_or("");
  d.tenant = r.String("tenant", 64).value_or("");
  if (auto p = r.Finish()) return ToResponse(*p);
  // A tenant-scoped key adds to its own tenant unless it names one.
  if (d.tenant.empty() && ctx.principal->tenant) d.tenant = ctx.principal->tenant->name;
  auto added = ctx.admin->AddDevice(d);
  if (!added) {
    auto e = added.error();
    if (e.message.find("is not a MAC address") != std::string::npos) return ToResponse(FieldProblem("mac", e.message));
    if (e.message.starts_with("unknown vendor")) return ToResponse(FieldProblem("vendor", e.message));
    if (e.message.starts_with("unknown tenant")) return ToResponse(FieldProblem("tenant", e.message, 404));
    return Failed(e, {"model", "serial", "tenant"});
  }
  // The domain layer found the tenant in the key's scope.
  if (added->tenant_id) ctx.audit_tenant = service::TenantScope{*added->tenant_id, d.tenant};
  ctx.audit_device = added->mac.str();
  ctx.after = DeviceJson(*added, d.tenant);
  return JsonResponse(201, ctx.after);
}

namespace {

// An upload kept by its content hash in a folder outside every served path (0600): written as
// it arrives under a temporary name, given its name once the hash is known, and taken back
// (Discard) when what it carried was refused, so refused uploads fill no disk. An upload
// already kept under that name stays as it is.
class KeptUpload {
 public:
  static Result<std::unique_ptr<KeptUpload>> Create(const std::filesystem::path& dir) {
    std::string temp = (dir / ".upload-XXXXXX").string();
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC);  // 0600
    if (fd < 0) return Error::Unavailable("cannot store the upload in " + dir.string());
    return std::unique_ptr<KeptUpload>(new KeptUpload(dir, std::move(temp), fd));
  }
  ~KeptUpload() {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
  KeptUpload(const KeptUpload&) = delete;
  KeptUpload& operator=(const KeptUpload&) = delete;

  Status Write(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Error::Unavailable("cannot store the upload in " + dir_.string());
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return Ok();
  }

  Status Keep(const std::string& hash) {
    const auto path = dir_ / (hash + ".csv");
    if (::fsync(fd_) != 0) return Error::Unavailable("cannot store the upload in " + dir_.string());
    if (::link(temp_.c_str(), path.c_str()) == 0) {
      kept_ = path;
    } else if (errno != EEXIST) {
      return Error::Unavailable("cannot store the upload in " + dir_.string());
    }
    return Ok();
  }
  // Removes what Keep added (nothing when the same upload was kept before).
  void Discard() {
    if (!kept_.empty()) ::unlink(kept_.c_str());
    kept_.clear();
  }

 private:
  KeptUpload(std::filesystem::path dir, std::string temp, int fd)
      : dir_(std::move(dir)), temp_(std::move(temp)), fd_(fd) {}
  std::filesystem::path dir_;
  std::string temp_;
  int fd_;
  std::filesystem::path kept_;
};

// POST /api/v1/devices/import: the manifest is hashed, kept (ApiOptions::imports_dir) and
// checked row by row as it arrives (service::InventoryImport); the answer comes once it ends.
// A failure on the way is remembered and answered by Finish; the rest of the body is dropped.
class ImportRequest final : public StreamedRequest {
 public:
  ImportRequest(Api::Context& ctx, const std::filesystem::path& imports_dir)
      : ctx_(ctx), import_(ctx.admin->StartImport()) {
    if (!imports_dir.empty()) {
      auto upload = KeptUpload::Create(imports_dir);
      if (upload) {
        upload_ = std::move(*upload);
      } else {
        failure_ = upload.error();
      }
    }
  }

  void Write(std::string_view bytes) override {
    hash_.Update(bytes);
    bytes_ += bytes.size();
    if (upload_ && !failure_) {
      if (auto st = upload_->Write(bytes); !st) failure_ = st.error();
    }
    // An import that failed keeps its error for Finish and ignores the rest.
    if (import_) (void)(*import_)->Feed(bytes);
  }

  ApiResponse Finish() override {
    const std::string hash = hash_.FinishHex();
    ctx_.after = {{"upload_sha256", hash}, {"bytes", bytes_}};
    if (!failure_ && upload_) {
      if (auto st = upload_->Keep(hash); !st) failure_ = st.error();
    }
    if (failure_) return Failed(*failure_);
    if (!import_) return Failed(import_.error());
    auto out = (*import_)->Finish({});
    if (!out || out->problem_count > 0) {
      if (upload_) upload_->Discard();
    }
    if (!out) return Failed(out.error(), {});
    if (out->problem_count > 0) {
      auto rows = nlohmann::json::array();
      for (const auto& p : out->problems) rows.push_back({{"line", p.line}, {"detail", p.reason}});
      ctx_.after["problems"] = out->problem_count;
      nlohmann::json j = {{"type", "about:blank"},
                          {"title", "Unprocessable Entity"},
                          {"status", 422},
                          {"detail", fmt::format("{} bad row(s){}; nothing was imported", out->problem_count,
                                                 out->problem_count > out->problems.size()
                                                     ? fmt::format(", the first {} listed", out->problems.size())
                                                     : "")},
                          {"bad_rows", out->problem_count},
                          {"rows", rows}};
      ApiResponse r = JsonResponse(422, j);
      r.content_type = "application/problem+json";
      return r;
    }
    ctx_.after["imported"] = out->imported;
    return JsonResponse(200, {{"imported", out->imported}, {"upload_sha256", hash}});
  }

 private:
  Api::Context& ctx_;
  Result<std::unique_ptr<service::InventoryImport>> import_;
  std::unique_ptr<KeptUpload> upload_;
  std::optional<Error> failure_;
  crypto::Sha256 hash_;
  size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<StreamedRequest> Api::ImportDevices(Context& ctx) {
  return std::make_unique<ImportRequest>(ctx, options_.imports_dir);
}

ApiResponse Api::GetDevice(Context& ctx) {
  auto view = DeviceView(*ctx.admin, ctx.param("mac"));
  if (!view) return Failed(view.error());
  return JsonResponse(200, *view);
}

namespace {

// The shared shape of a device action: before view, the action, after view.
template <class Action>
ApiResponse DeviceAction(Api::Context& ctx, Action&& action) {
  const auto& mac = ctx.param("mac");
  auto before = DeviceView(*ctx.admin, mac, &ctx.audit_tenant);
  if (!before) return Failed(before.error());
  ctx.before = *before;
  ctx.audit_device = (*before)["mac"].get<std::string>();
  auto extra = action(mac);
  if (!extra) return Failed(extra.error(), {"tenant"});
  auto after = DeviceView(*ctx.admin, mac, &ctx.audit_tenant);
  if (!after) return Failed(after.error());
  ctx.after = *after;
  nlohmann::json out = {{"device", *after}};
  // The secrets an action created: in this response only, never in ctx.after.
  for (auto& [k, v] : extra->items()) out[k] = v;
  return JsonResponse(200, out);
}

}  // namespace

ApiResponse Api::AssignDevice(Context& ctx) {
  auto body = Body(ctx);
  if (!body) return Failed(body.error());
  BodyReader r(*body);
  r.Require("tenant");
  auto tenant = r.String("tenant", 64);
  if (auto p = r.Finish()) return ToResponse(*p);
  return DeviceAction(ctx, [&](const std::string& mac) -> Result<nlohmann::json> {
    PG_TRY(auto d, ctx.admin->AssignDevice(mac, *tenant));
    (void)d;
    return JsonOk(nlohmann::json::object());
  });
}

ApiResponse Api::ReactivateDevice(Context& ctx) {
  return DeviceAction(ctx, [&](const std::string& mac) -> Result<nlohmann::json> {
    PG_TRY(auto r, ctx.admin->ReactivateDevice(mac));
    nlohmann::json secrets = {
        {"url_token", r.url_token}, {"new_sip_passwords", r.new_passwords}, {"pin_cleared", r.pin_cleared}};
    if (r.digest_password) secrets["digest_password"] = *r.digest_password;
    if (r.config_key) secrets["config_key"] = *r.config_key;
    return JsonOk(nlohmann::json::object({{"secrets", secrets}}));
  });
}

ApiResponse Api::RetireDevice(Context& ctx) {
  return DeviceAction(ctx, [&](const std::string& mac) -> Result<nlohmann::json> {
    PG_TRY(auto d, ctx.admin->RetireDevice(mac));
    (void)d;
    return JsonOk(nlohmann::json::object());
  });
}

ApiResponse Api::UnlockDevice(Context& ctx) {
  return DeviceAction(ctx, [&](const std::string& mac) -> Result<nlohmann::json> {
    PG_TRY_STATUS(ctx.admin->UnlockDevice(mac));
    return JsonOk(nlohmann::json::object());
  });
}

ApiResponse Api::RepinDevice(Context& ctx) {
  return DeviceAction(ctx, [&](const std::string& mac) -> Result<nlohmann::json> {
    PG_TRY_STATUS(ctx.admin->RepinDevice(mac));
    return JsonOk(nlohmann::json::object());
  });
}

ApiResponse Api::IssueCredential(Context& ctx) {
  const auto kind = CredentialOf(ctx.param("kind"));
  if (!kind) return ToResponse(FieldProblem("kind", "must be url-token, digest-password or config-key", 404));
  return DeviceAction(ctx, [&](const std::string& mac) -> Result<nlohmann::json> {
    PG_TRY(auto secret, ctx.admin->IssueCredential(mac, *kind));
    return JsonOk(nlohmann::json::object({{"secrets", nlohmann::json::object({{ctx.param("kind"), secret}})}}));
  });
}

ApiResponse Api::RevokeCredential(Context& ctx) {
  const auto kind = CredentialOf(ctx.param("kind"));
  if (!kind) return ToResponse(FieldProblem("kind", "must be url-token, digest-password or config-key", 404));
  return DeviceAction(ctx, [&](const std::string& mac) -> Result<nlohmann::json> {
    PG_TRY_STATUS(ctx.admin->RevokeCredential(mac, *kind));
    return JsonOk(nlohmann::json::object());
  });
}

// --- Lines ---

ApiResponse Api::ListLines(Context& ctx) {
  auto d = ctx.admin->ShowDevice(ctx.param("mac"));
  if (!d) return Failed(d.error());
  auto items = nlohmann::json::array();
  for (size_t i = 0; i < d->lines.size(); ++i) items.push_back(LineJson(d->lines[i], d->has_password[i]));
  return JsonResponse(200, {{"items", items}});
}

ApiResponse Api::SetLine(Context& ctx) {
  const auto& index_text = ctx.param("index");
  int index = 0;
  const auto [end, ec] = std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
  if (ec != std::errc() || end != index_text.data() + index_text.size()) {
    return ToResponse(FieldProblem("index", "must be a line number from 1 to 16"));
  }
  auto body = Body(ctx);
  if (!body) return Failed(body.error());
  BodyReader r(*body);
  r.Require("user");
  r.Require("registrar");
  service::LineChange c;
  c.index = index;
  c.user = r.String("user", 128).value_or("");
  c.registrar = r.String("registrar", 253).value_or("");
  c.auth_user = r.String("auth_user", 128).value_or("");
  c.display_name = r.String("display_name", 128).value_or("");
  c.port = static_cast<int>(r.Int("port", 1, 65535).value_or(5060));
  c.transport = r.String("transport", 8).value_or("udp");
  c.password = r.String("password", 128);
  c.generate_password = r.Bool("generate_password").value_or(false);
  if (auto p = r.Finish()) return ToResponse(*p);
  if (c.password && c.generate_password) {
    return ToResponse(FieldProblem("password", "give either password or generate_password, not both"));
  }
  return DeviceAction(ctx, [&](const std::string& mac) -> Result<nlohmann::json> {
    PG_TRY(auto generated, ctx.admin->SetLine(mac, c));
    if (generated.empty()) return JsonOk(nlohmann::json::object());
    return JsonOk(nlohmann::json::object({{"secrets", nlohmann::json::object({{"sip_password", generated}})}}));
  });
}

// --- Variables ---

ApiResponse Api::GetDeviceVars(Context& ctx) {
  auto vars = ctx.admin->DeviceVars(ctx.param("mac"));
  if (!vars) return Failed(vars.error());
  return JsonResponse(200, {{"vars", *vars}});
}

ApiResponse Api::ChangeDeviceVars(Context& ctx) {
  auto body = Body(ctx);
  if (!body) return Failed(body.error());
  std::optional<Problem> problem;
  auto change = ReadVarsChange(*body, problem);
  if (problem) return ToResponse(*problem);
  const auto& mac = ctx.param("mac");
  if (auto view = DeviceView(*ctx.admin, mac, &ctx.audit_tenant)) ctx.audit_device = (*view)["mac"].get<std::string>();
  service::Linter linter(deps_.store, deps_.vendors, deps_.templates, deps_.provisioning_url);
  return ChangeVars(
      ctx, *change, [&] { return ctx.admin->DeviceVars(mac); },
      [&] { return ctx.admin->ChangeDeviceVars(linter, mac, *change); });
}

}  // namespace provgate::api
