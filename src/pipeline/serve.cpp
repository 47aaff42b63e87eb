// The answer to an authorized request: an upload stored, a key file, or a rendered file
// (with the passwords this response may carry, encrypted where the vendor and device say).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "core/lifecycle.hpp"
#include "crypto/random.hpp"
#include "encrypt/encrypt.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/render_file.hpp"
#include "pipeline/stage_common.hpp"

namespace provgate::pipeline {
namespace {

// The render cache key, in memory the serving thread keeps.
thread_local std::string cache_key_scratch;

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

}  // namespace

Result<DeviceResponse> Pipeline::Upload(const Context& ctx, const core::Device& device,
                                        const vendors::UploadRoute& slot, const std::string& file_name) {
  audit::AuditRecord& record = ctx.record;
  if (ctx.request.body.size() > slot.max_bytes) return Deny(record, "upload too large");
  const auto& root = defenses_.options().uploads_dir;
  if (root.empty()) return Deny(record, "uploads disabled");
  // Stored apart from everything provgate generates, under a name provgate chose, readable
  // by provgate's user only.
  const std::filesystem::path dir = root / device.mac.str();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error::Unavailable("cannot create upload directory " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  const auto final_path = dir / file_name;
  const auto tmp = dir / (file_name + ".part");
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
Result<DeviceResponse> Pipeline::KeyFile(const Context& ctx, const core::Device& device) {
  if (!device.config_key) return Deny(ctx.record, "no config key");
  if (!ctx.request.tls) return Deny(ctx.record, "key needs tls");
  PG_TRY(auto wrapped, encrypt::WrapYealinkKey(*device.config_key));
  ctx.durable = true;
  ctx.record.decision = "allow";
  ctx.record.reason = "key file";
  return DeviceResponse{200, "application/octet-stream", std::move(wrapped)};
}

Result<DeviceResponse> Pipeline::ServeFile(const Context& ctx, const vendors::Vendor& vendor,
                                           const vendors::FileRoute& route, const core::Device& device,
                                           const core::Tenant& tenant, const std::string& file_name,
                                           std::uint64_t generation, std::string& body_memory) {
  audit::AuditRecord& record = ctx.record;
  const auto scheme = vendor.Encryption(route);
  const auto& key = device.config_key;
  if (scheme && scheme->required && !key) return Deny(record, "no config key");
  // A device whose phone cannot decrypt yet gets a plain copy (over TLS) once, then files
  // encrypted with the key it now holds: where the key travels in the plain copy itself
  // (Grandstream), and where the phone learns to fetch the key file only from the common
  // file of the same session, which it applies after every download (Yealink's
  // static.auto_provision.aes_key_in_file).
  const bool plain_copy_first = scheme && key && !device.config_key_delivered_at &&
                                (scheme->delivery == vendors::KeyDelivery::kPriorPlainCopy ||
                                 scheme->delivery == vendors::KeyDelivery::kKeyFile);
  const bool encrypt = scheme && key && !plain_copy_first;
  const render::Template* tpl = templates_.Find(device.vendor, route.template_name);
  if (tpl == nullptr) return Error::Internal("no template " + device.vendor + "/" + route.template_name);
  const bool device_file = route.scope == vendors::FileScope::kDevice;
  // A plain file that carries the device's key goes only over TLS.
  const bool carries_key = device_file && key && !encrypt && tpl->References("config_key");
  if (carries_key && !ctx.request.tls) return Deny(record, "key needs tls");

  std::string& cache_key = cache_key_scratch;
  if (device_file) {
    RenderCache::DeviceKey(cache_key, device.mac, file_name);
  } else {
    RenderCache::CommonKey(cache_key, *device.tenant_id, device.vendor, device.model, file_name);
  }
  std::string body = std::move(body_memory);
  // A file rendered at this generation for a device with no stored password: there is
  // nothing to deliver or confirm, as reading the lines again would show.
  if (!render_cache_.Find(cache_key, generation, body)) {
    std::vector<core::Line> lines;
    bool stored_password = false;
    if (device_file) {
      // Only files that can carry a password take part in delivery and confirmation.
      if (tpl->References("password")) {
        PG_TRY(lines, LinesWithDeliverablePasswords(ctx, device, tenant, *tpl, route, file_name, stored_password));
      } else {
        PG_TRY(lines, LinesWithoutPasswords(device, stored_password));
      }
    }
    body = RenderFile(templates_, *tpl, route, device, tenant, lines, file_name, options_.provisioning_url,
                      generation);
    // A stored password, even one this response leaves out, has a future (delivery, the
    // wipe when its grace period ends) that only a request reading the lines carries out.
    if (!stored_password) render_cache_.Put(cache_key, body, generation);
  }
  if (encrypt) {
    PG_TRY(body, encrypt::Encrypt(scheme->cipher, *key, body));
    record.detail["encrypted"] = true;
  } else if (plain_copy_first && ctx.side_effects) {
    PG_TRY(bool first, writes_.MarkConfigKeyDelivered(device.id, ctx.now));
    if (first) {
      ctx.spent.device_id = device.id;
      ctx.spent.mac = device.mac.str();
      ctx.spent.at = ctx.now;
      ctx.spent.config_key = true;
      LifecycleEvent(ctx, device,
                     scheme->delivery == vendors::KeyDelivery::kPriorPlainCopy ? "config key delivered"
                                                                                : "first copy sent plain",
                     {{"file", file_name}});
    }
  }
  if (device_file && device.state == core::DeviceState::kAssigned && ctx.side_effects) {
    PG_TRY_STATUS(RecordTransition(ctx, device, core::DeviceState::kAssigned, core::DeviceState::kProvisioned,
                                   "first authenticated fetch"));
  }
  // A device's own file carries its secrets (web-UI password, SIP passwords, key); a
  // common file carries none (RenderFile), and a HEAD sends no body.
  ctx.durable = device_file && ctx.side_effects;
  record.decision = "allow";
  record.reason = device_file ? "device file" : "common file";
  return DeviceResponse{200, encrypt ? "application/octet-stream" : route.content_type, std::move(body)};
}

Result<std::vector<core::Line>> Pipeline::LinesWithoutPasswords(const core::Device& device,
                                                                bool& stored_password) {
  PG_TRY(auto lines, reads_.ListLines(device.id));
  stored_password = core::AnyPassword(lines);
  for (auto& l : lines) l.password.reset();
  return lines;
}

std::vector<int> Pipeline::CarriedPasswordLines(const core::Device& device, const core::Tenant& tenant,
                                                const render::Template& tpl,
                                                const vendors::FileRoute& route,
                                                const std::string& file_name,
                                                const std::vector<core::Line>& lines) const {
  std::vector<core::Line> probe = lines;
  std::vector<std::pair<int, std::string>> markers;
  for (auto& l : probe) {
    if (l.password && !l.delivered_at) {
      const auto random = crypto::RandomBytes(12);
      // Letters and digits only: no escaping of any format changes it.
      std::string marker = "pgmark" + crypto::HexEncode(random.data(), random.size());
      l.password = marker;
      markers.emplace_back(l.index, std::move(marker));
    } else {
      l.password.reset();
    }
  }
  const std::string body = RenderFile(templates_, tpl, route, device, tenant, probe, file_name,
                                      options_.provisioning_url, 0);
  std::vector<int> carried;
  for (const auto& [index, marker] : markers) {
    if (body.find(marker) != std::string::npos) carried.push_back(index);
  }
  return carried;
}

Result<std::vector<core::Line>> Pipeline::LinesWithDeliverablePasswords(
    const Context& ctx, const core::Device& device, const core::Tenant& tenant,
    const render::Template& tpl, const vendors::FileRoute& route, const std::string& file_name,
    bool& stored_password) {
  PG_TRY(auto lines, reads_.ListLines(device.id));
  stored_password = core::AnyPassword(lines);
  if (!ctx.side_effects) {
    // HEAD: what GET would send, without spending or confirming anything.
    if (tenant.password_policy != core::PasswordPolicy::kAlways) {
      for (auto& l : lines) l.password.reset();
    }
    return lines;
  }
  if (tenant.password_policy == core::PasswordPolicy::kAlways) return lines;

  // The write statements below run only when this snapshot shows they have work: a device
  // fetching again after its passwords were delivered and wiped costs one read. Skipping on
  // a stale snapshot is safe: the claim itself stays atomic, and a password that arrives
  // after the read is simply delivered on the next fetch.
  const std::int64_t cutoff = core::ConfirmedDeliveryCutoff(tenant, ctx.now);
  bool to_wipe = false;
  bool to_claim = false;
  for (const auto& l : lines) {
    if (!l.password) continue;
    to_wipe = to_wipe || (l.delivered_at && *l.delivered_at <= cutoff);
    to_claim = to_claim || !l.delivered_at;
  }
  // Confirmation first: a password delivered earlier is wiped once this request proves the
  // device has it (its next fetch, or the grace period after delivery).
  std::vector<int> wiped;
  if (to_wipe) {
    PG_TRY(wiped, writes_.WipeDeliveredPasswords(device.id, cutoff));
  }
  if (!wiped.empty()) {
    LifecycleEvent(ctx, device, "password removed",
                   {{"lines", wiped},
                    {"cause", tenant.confirm_grace_seconds == 0 ? "confirmed by the device's next fetch"
                                                                 : "grace period after delivery ended"}});
  }
  // Then the atomic claim of the passwords this file carries: of concurrent requests,
  // exactly one gets each; a file that leaves a password out does not spend it.
  std::vector<core::Line> claimed;
  if (to_claim) {
    const auto carried = CarriedPasswordLines(device, tenant, tpl, route, file_name, lines);
    PG_TRY(claimed, writes_.ClaimPasswords(device.id, carried, ctx.now));
  }
  if (!claimed.empty()) {
    std::vector<int> indexes;
    for (const auto& l : claimed) indexes.push_back(l.index);
    ctx.spent.device_id = device.id;
    ctx.spent.mac = device.mac.str();
    ctx.spent.at = ctx.now;
    ctx.spent.lines = indexes;
    LifecycleEvent(ctx, device, "password delivered",
                   {{"lines", indexes}, {"file", file_name},
                    {"policy", core::PasswordPolicyName(tenant.password_policy)}});
  }
  if (!wiped.empty() || !claimed.empty()) {
    PG_TRY(lines, reads_.ListLines(device.id));
  }
  if (tenant.password_policy == core::PasswordPolicy::kDeliverOnce) {
    for (auto& l : lines) {
      l.password.reset();
      for (const auto& c : claimed) {
        if (c.index == l.index) l.password = c.password;
      }
    }
  }
  return lines;
}

}  // namespace provgate::pipeline
