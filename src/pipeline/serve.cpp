#include "pipeline/serve.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "core/lifecycle.hpp"
#include "crypto/random.hpp"
#include "encrypt/encrypt.hpp"
#include "pipeline/passwords.hpp"
#include "pipeline/render_file.hpp"

namespace provgate::pipeline {
namespace {

// Writes `data` to `path` readable by provgate's user only (0600), whatever the umask.
Status WritePrivateFile(const std::filesystem::path& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Unavailable("cannot write upload " + path.string());
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      ::close(fd);
      return Error::Unavailable("cannot write upload " + path.string());
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Error::Unavailable("cannot write upload " + path.string());
  return Ok();
}

// The device as a device file must render it now. Once its engineer window has ended, the
// first such fetch replaces the web admin password the engineer saw with a new random one
// nobody sees, audited with the request; of racing requests one replaces it and the others
// read the replacement from the store. nullopt: `device` stands as it is (no window, the
// window still open, or a HEAD, which changes nothing and sends no body).
Result<std::optional<core::Device>> AfterEngineerWindow(const StageDeps& deps, RequestState& ctx,
                                                        const core::Device& device) {
  const auto& ends = device.engineer_window_ends;
  if (!ends || ctx.now < *ends || !ctx.side_effects) return std::optional<core::Device>();
  PG_TRY(std::string fresh, GenerateAdminPassword());
  PG_TRY(bool ended, deps.writes.EndEngineerWindow(device.id, *ends, fresh));
  if (ended) {
    core::Device rotated = device;
    rotated.admin_password = std::move(fresh);
    rotated.engineer_window_ends.reset();
    LifecycleEvent(deps, ctx, rotated, "engineer password rotated", {{"window_ended", *ends}});
    return std::optional<core::Device>(std::move(rotated));
  }
  PG_TRY(auto stored, FindNamed(deps.named, device.mac));
  if (!stored) return Error::Unavailable("device " + device.mac.str() + " vanished while its file was served");
  return std::optional<core::Device>(*stored);
}

}  // namespace

Result<Step<DeviceResponse>> Upload(const StageDeps& deps, RequestState& ctx, const core::Device& device,
                                    const vendors::UploadRoute& slot, std::string_view file_name) {
  audit::AuditRecord& record = ctx.record;
  // What a phone uploads (its local settings, a web-UI export) may carry its passwords.
  if (!ctx.request.tls) return Refused{Refusal::kUploadNeedsTls};
  if (ctx.request.body.size() > slot.max_bytes) return Refused{Refusal::kUploadTooLarge};
  const auto& root = deps.defenses.options().uploads_dir;
  if (root.empty()) return Refused{Refusal::kUploadsDisabled};
  // Stored apart from everything provgate generates, under a name provgate chose, readable
  // by provgate's user only.
  const std::filesystem::path dir = root / device.mac.str();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error::Unavailable("cannot create upload directory " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  const auto final_path = dir / file_name;
  const auto tmp = dir / (std::string(file_name) + ".part");
  PG_TRY_STATUS(WritePrivateFile(tmp, ctx.request.body));
  std::filesystem::rename(tmp, final_path, ec);
  if (ec) return Error::Unavailable("cannot store upload: " + ec.message());
  ctx.durable = true;
  record.decision = "allow";
  record.reason = "upload stored";
  record.detail["upload_kind"] = slot.kind;
  record.detail["upload_bytes"] = ctx.request.body.size();
  return DeviceResponse{204, "text/plain; charset=utf-8", ""};
}

// A key is never sent without TLS: a plain-HTTP listener could hand it to anyone on the path.
Result<Step<DeviceResponse>> KeyFile(RequestState& ctx, const core::Device& device,
                                     const vendors::KeyFileRoute& route) {
  if (!device.config_key) return Refused{Refusal::kNoConfigKey};
  if (!ctx.request.tls) return Refused{Refusal::kKeyNeedsTls};
  PG_TRY(auto wrapped, encrypt::WrapKey(route.wrap, *device.config_key));
  ctx.durable = true;
  ctx.record.decision = "allow";
  ctx.record.reason = "key file";
  return DeviceResponse{200, "application/octet-stream", std::move(wrapped)};
}

Result<Step<DeviceResponse>> ServeFile(const StageDeps& deps, RequestState& ctx, const vendors::Vendor& vendor,
                                       const vendors::FileRoute& route, const core::Device& stored,
                                       const core::Tenant& tenant, std::string_view file_name,
                                       std::uint64_t generation) {
  audit::AuditRecord& record = ctx.record;
  const bool device_file = route.scope == vendors::FileScope::kDevice;
  // The key and its delivery mark are the stored device's: the engineer window's end below
  // changes neither.
  const auto scheme = vendor.Encryption(route);
  const auto& key = stored.config_key;
  if (scheme && scheme->required && !key) return Refused{Refusal::kNoConfigKey};
  // A device whose phone cannot decrypt yet gets a plain copy (over TLS) once, then files
  // encrypted with the key it now holds: where the key travels in the plain copy itself
  // (Grandstream), and where the phone learns to fetch the key file only from the common
  // file of the same session, which it applies after every download (Yealink's
  // static.auto_provision.aes_key_in_file).
  const bool plain_copy_first =
      scheme && key && !stored.config_key_delivered_at &&
      (scheme->delivery == vendors::KeyDelivery::kPriorPlainCopy || scheme->delivery == vendors::KeyDelivery::kKeyFile);
  const bool encrypt = scheme && key && !plain_copy_first;
  const render::Template* tpl = deps.templates.Find(stored.vendor, route.template_name);
  if (tpl == nullptr) return Error::Internal("no template " + stored.vendor + "/" + route.template_name);
  // Refused before anything changes. A plain file that carries the device's key goes only
  // over TLS; and a device's own file carries its passwords: over plain HTTP only encrypted,
  // with a key the phone already holds.
  const bool carries_key = device_file && key && !encrypt && tpl->References("config_key");
  if (carries_key && !ctx.request.tls) return Refused{Refusal::kKeyNeedsTls};
  if (device_file && !encrypt && !ctx.request.tls) return Refused{Refusal::kDeviceFileNeedsTls};

  std::optional<core::Device> changed;
  if (device_file) {
    PG_TRY(changed, AfterEngineerWindow(deps, ctx, stored));
  }
  const core::Device& device = changed ? *changed : stored;

  std::string& cache_key = ctx.memory.cache_key;
  if (device_file) {
    RenderCache::DeviceKey(cache_key, device.mac, file_name);
  } else {
    RenderCache::CommonKey(cache_key, *device.tenant_id, device.vendor, device.model, file_name);
  }
  std::string body = std::move(ctx.memory.body);
  // A file rendered at this generation for a device with no stored password: there is
  // nothing to deliver or confirm, as reading the lines again would show.
  // A device changed by this request is newer than `generation`: rendered, never cached.
  const bool cacheable = !changed;
  if (!cacheable || !deps.render_cache.Find(cache_key, generation, body)) {
    std::vector<core::Line> lines;
    bool stored_password = false;
    if (device_file) {
      // Only files that can carry a password take part in delivery and confirmation.
      if (tpl->References("password")) {
        PG_TRY(auto deliverable,
               LinesWithDeliverablePasswords(deps, ctx, device, tenant, *tpl, route, file_name, stored_password));
        if (auto* refused = std::get_if<Refused>(&deliverable)) return std::move(*refused);
        lines = std::move(std::get<std::vector<core::Line>>(deliverable));
      } else {
        PG_TRY(lines, LinesWithoutPasswords(deps, device, stored_password));
      }
    }
    body = RenderFile(deps.templates, *tpl, route, device, tenant, lines, file_name, deps.options.provisioning_url,
                      generation);
    // A stored password, even one this response leaves out, has a future (delivery, the
    // wipe when its grace period ends) that only a request reading the lines carries out.
    if (!stored_password && cacheable) deps.render_cache.Put(cache_key, body, generation);
  }
  if (encrypt) {
    PG_TRY(body, encrypt::Encrypt(scheme->cipher, *key, body));
    record.detail["encrypted"] = true;
  } else if (plain_copy_first && ctx.side_effects) {
    PG_TRY(bool first, deps.writes.MarkConfigKeyDelivered(device.id, ctx.now, Spend(ctx, device)));
    if (first) {
      ctx.spent.config_key = true;
      LifecycleEvent(
          deps, ctx, device,
          scheme->delivery == vendors::KeyDelivery::kPriorPlainCopy ? "config key delivered" : "first copy sent plain",
          {{"file", std::string(file_name)}, {"claim", ctx.spent.claim}});
    }
  }
  if (device_file && device.state == core::DeviceState::kAssigned && ctx.side_effects) {
    PG_TRY_STATUS(RecordTransition(deps, ctx, device, core::DeviceState::kAssigned, core::DeviceState::kProvisioned,
                                   "first authenticated fetch"));
  }
  // A device's own file carries its secrets (web-UI password, SIP passwords, key); a
  // common file carries none (RenderFile), and a HEAD sends no body.
  ctx.durable = device_file && ctx.side_effects;
  record.decision = "allow";
  record.reason = device_file ? "device file" : "common file";
  return DeviceResponse{200, encrypt ? "application/octet-stream" : route.content_type, std::move(body)};
}

}  // namespace provgate::pipeline
