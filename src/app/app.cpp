#include "app/app.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>

#include "app/admin_plane.hpp"
#include "app/master_key.hpp"
#include "app/server_metrics.hpp"
#include "app/store_backend.hpp"
#include "base/process.hpp"
#include "crypto/random.hpp"
#include "crypto/secret_box.hpp"
#include "crypto/signing_key.hpp"
#include "http/listener.hpp"
#include "pipeline/pipeline.hpp"
#include "service/lint.hpp"
#include "store/cached_store.hpp"

namespace provgate::app {
namespace {

// Where cached entries stay until a change touches them (PostgreSQL), reads the fleet into
// the cache before serving, so that a storm of phones this node has not served yet costs
// the database no reads. A failure costs only that: the devices are read as they come.
void PreloadFleet(store::FleetCache& cache, store::Store& store) {
  if (store.CacheMaxAge()) return;
  const auto start = std::chrono::steady_clock::now();
  const auto devices = cache.Preload(store);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (!devices) {
    spdlog::warn(
        "fleet cache: reading the fleet ahead of requests failed after {} ms: {}; devices are read as "
        "they come",
        took.count(), devices.error().message);
    return;
  }
  spdlog::info("fleet cache: {} devices read in {} ms", *devices, took.count());
}

}  // namespace

App::~App() = default;

Result<std::unique_ptr<App>> App::Open(Config config, std::string actor, Role role) {
  PG_TRY_STATUS(crypto::InitCrypto());
#if !defined(__SANITIZE_ADDRESS__)
  // Before the master key is read. Left out of sanitizer builds: LeakSanitizer attaches to
  // the process at exit, which a non-dumpable process refuses to unprivileged users.
  PG_TRY_STATUS(DisableCoreDumps());
#endif
  std::unique_ptr<App> app(new App());
  app->config_ = std::move(config);
  const Config& c = app->config_;
  PG_TRY(auto key_lock, KeyUseLock::Shared(c));
  app->key_lock_ = std::make_unique<KeyUseLock>(std::move(key_lock));
  PG_TRY(auto box, OpenMasterKey(c, *app->key_lock_));
  PG_TRY(app->store_, OpenStore(c, box, app->clock_));
  PG_TRY(app->operator_store_, OpenOperatorStore(c));
  PG_TRY(app->portal_users_, OpenPortalUsers(c));
  app->box_ = std::make_unique<crypto::SecretBox>(box);
  if (role == Role::kServer) {
    PG_TRY(app->audit_connection_, OpenStore(c, box, app->clock_, 1));
  }
  app->fleet_cache_ = std::make_unique<store::FleetCache>(c.cache_devices, app->store_->CacheMaxAge());
  if (role == Role::kServer) PreloadFleet(*app->fleet_cache_, *app->store_);
  app->audit_store_ = std::make_unique<store::CachedAuditStore>(
      app->audit_connection_ ? *app->audit_connection_ : *app->store_, *app->fleet_cache_);
  PG_TRY(app->audit_, audit::AuditLog::Open(c.audit_path, app->audit_store_.get(), c.audit));
  PG_TRY(auto templates, render::TemplateSet::Load(c.templates_dir));
  app->templates_ = std::make_unique<render::TemplateSet>(std::move(templates));
  app->vendors_ = vendors::BuiltinVendors();
  app->linter_ = std::make_unique<service::Linter>(*app->store_, app->vendors_, *app->templates_, c.provisioning_url);
  app->admin_ = std::make_unique<service::Admin>(*app->store_, *app->store_, *app->store_, *app->audit_, app->vendors_,
                                                 app->clock_, std::move(actor), app->linter_.get());
  return app;
}

namespace {

// /readyz fails while the audit file's volume has less room than this (a few dozen records).
constexpr std::uint64_t kAuditMinFreeBytes = std::uint64_t{64} << 10;

// The first error-severity finding of `result` as "file rule: message (fix: hint)", or "".
std::string FirstError(const service::DeviceFindings& result) {
  for (const auto& f : result.findings) {
    if (f.severity == lint::Severity::kError) {
      return fmt::format("{} {}: {} (fix: {})", f.file, f.rule_id, f.message, f.fix_hint);
    }
  }
  return "";
}

}  // namespace

Result<size_t> App::CheckTemplates() {
  const service::Linter& linter = *linter_;
  withheld_ = std::make_shared<pipeline::WithheldDevices>([&linter](const core::MacAddress& mac) {
    auto results = linter.LintDevices("", mac.str());
    return results && !results->empty() ? FirstError(results->front()) : std::string();
  });
  const std::uint64_t generation = store_->DataGeneration();
  auto withhold = [&](const core::Device& d, const core::Tenant& tenant, const std::string& why) {
    spdlog::error("ALERT lint: device {} ({} {}, tenant {}) is served nothing: {}", d.mac.str(), d.vendor, d.model,
                  tenant.name, why);
    withheld_->Withhold(d.mac, why, generation);
  };
  PG_TRY(auto tenants, store_->ListTenants());
  for (const auto& tenant : tenants) {
    // The tenant's layers with each (vendor, model)'s defaults: what every device of that
    // model without variables of its own gets.
    std::map<std::pair<std::string, std::string>, std::string> verdicts;
    PG_TRY(auto representatives, store_->ListModelRepresentatives(tenant.id));
    for (auto d : representatives) {
      d.vars = core::Vars::object();
      PG_TRY(auto lines, store_->ListLines(d.id));
      const auto result = linter.LintOne(d, tenant, lines);
      for (const auto& f : result.findings) {
        if (f.severity == lint::Severity::kError) continue;
        spdlog::warn("lint {} {} (tenant {}) {} {} {}: {} (fix: {})", d.vendor, d.model, tenant.name, f.file, f.rule_id,
                     lint::SeverityName(f.severity), f.message, f.fix_hint);
      }
      verdicts[{d.vendor, d.model}] = FirstError(result);
    }
    const bool any_model_fails =
        std::any_of(verdicts.begin(), verdicts.end(), [](const auto& v) { return !v.second.empty(); });
    store::DeviceFilter filter{.tenant_id = tenant.id, .state = std::nullopt, .with_own_vars_only = !any_model_fails};
    PG_TRY(auto devices, store_->ListDevices(filter));
    for (const auto& d : devices) {
      if (d.state == core::DeviceState::kRetired) continue;
      std::string why;
      if (!d.vars.empty()) {
        PG_TRY(auto lines, store_->ListLines(d.id));
        why = FirstError(linter.LintOne(d, tenant, lines));
      } else {
        why = verdicts[{d.vendor, d.model}];
      }
      if (!why.empty()) withhold(d, tenant, why);
    }
  }
  return withheld_->size();
}

Status App::Serve(ServeOptions options) {
  if (!audit_connection_) return Error::FailedPrecondition("App::Serve needs an App opened with Role::kServer");
  // Before anything is served: one server per audit file, and the store's copy of the audit
  // trail caught up with what an unclean stop left out of it; the audit
  // trail's chain is signed from now on with the node's key, created at the first start.
  PG_TRY(auto signing_key, crypto::SigningKey::OpenOrCreateKeyFile(AuditSigningKeyPath(config_)));
  signing_key_ = std::make_unique<crypto::SigningKey>(std::move(signing_key));
  PG_TRY_STATUS(audit_->ClaimForServer(signing_key_.get(), &clock_));
  pipeline::PipelineOptions pipeline_options;
  pipeline_options.path_prefix = config_.path_prefix;
  pipeline_options.provisioning_url = config_.provisioning_url;
  pipeline_options.render_cache_files = config_.cache_devices;
  pipeline_options.withheld = withheld_;
  PG_TRY(auto defenses, pipeline::Defenses::Create(*store_, clock_, config_.defense));
  // Requests of proven devices read through the fleet cache; the CLI and admin paths, and
  // names a request makes up, read the store.
  store::CachedStore cached(*store_, *fleet_cache_);
  pipeline::Pipeline pipeline(cached, *store_, *store_, vendors_, *templates_, *audit_, clock_, *defenses,
                              pipeline_options);

  // Thread per core: each serving thread runs its own io_context with its own acceptor on
  // every listener's port (SO_REUSEPORT), so a connection lives on one thread from accept
  // to close and nothing on its path needs a strand.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned threads = config_.threads > 0 ? static_cast<unsigned>(config_.threads) : cores;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  for (unsigned i = 0; i < threads; ++i) contexts.push_back(std::make_unique<boost::asio::io_context>(1));
  boost::asio::io_context& main = *contexts.front();

  // Every label of the request metrics exists from the start: the listeners, the vendors.
  std::vector<std::string> listener_names;
  for (const auto& lc : config_.listeners) listener_names.push_back(lc.name);
  pipeline::DeviceMetrics device_metrics(listener_names, vendors_.Names());

  std::vector<std::unique_ptr<http::Listener>> listeners;
  Serving ready;
  for (const auto& lc : config_.listeners) {
    PG_TRY(auto first, http::Listener::Create(main, lc, config_.mac_rules, pipeline, *audit_, clock_,
                                              *device_metrics.ForListener(lc.name)));
    for (unsigned i = 1; i < threads; ++i) {
      PG_TRY(auto more, first->AddAcceptor(*contexts[i]));
      listeners.push_back(std::move(more));
    }
    spdlog::info("listener {} on {}:{} ({}, client certificates {}, {} serving thread(s))", first->name(), lc.bind,
                 first->port(),
                 lc.plain_http ? "plain HTTP" : "TLS profile " + std::string(tls::TlsProfileName(lc.tls.profile)),
                 tls::ClientCertModeName(lc.tls.client_cert), threads);
    ready.devices.push_back({first->name(), first->port()});
    listeners.push_back(std::move(first));
  }
  for (auto& l : listeners) l->Start();
  // The admin plane, on its own thread; its probes read memory only (a scrape costs no
  // store query).
  std::atomic<bool> serving{false};
  api::ServerProbes probes;
  probes.metrics = [&](std::string& out) {
    AppendServerMetrics(out, {device_metrics, *defenses, *fleet_cache_, pipeline, *audit_, clock_});
  };
  probes.listeners_ready = [&]() -> Status {
    if (!serving.load()) return Error::Unavailable("listeners not started");
    return Ok();
  };
  // Not ready while the audit file cannot take a record (read-only, or its volume full): every
  // response that releases a secret gets 503 there, so a balancer should send phones elsewhere.
  probes.audit_ready = [path = config_.audit_path]() -> Status {
    if (::access(path.c_str(), W_OK) != 0) return Error::Unavailable("audit log not writable");
    struct statvfs fs {};
    if (::statvfs(path.c_str(), &fs) == 0 &&
        static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < kAuditMinFreeBytes) {
      return Error::Unavailable("audit log volume full");
    }
    return Ok();
  };
  PG_TRY(auto admin_plane, AdminPlane::Start(config_,
                                             api::ApiDeps{*store_, *operator_store_, *audit_, vendors_, *templates_,
                                                          config_.provisioning_url, clock_, std::move(probes)},
                                             portal::PortalDeps{*portal_users_, *store_, *operator_store_, *box_,
                                                                *audit_, vendors_, clock_}));
  serving = true;
  // The store's upkeep, on a thread of its own (pg-upkeep), so that no serving thread waits
  // for the database, which may be a PostgreSQL server far away or failing over: the
  // give-backs the store refused when their response failed are tried again every 100 ms
  // while some wait (the sooner, the less likely a device's retry on another node finds
  // the cut-off claim still standing); every second the fleet cache reads again what
  // changes dropped (where its entries do not expire, FleetCache::Refill); every 5 s the bans are
  // reloaded, so those added or lifted by the CLI or by other nodes reach this node within
  // seconds.
  std::mutex upkeep_mu;
  std::condition_variable_any upkeep_wake;
  std::jthread upkeep([&](const std::stop_token& stop) {
    pthread_setname_np(pthread_self(), "pg-upkeep");
    std::unique_lock lock(upkeep_mu);
    auto bans_loaded = std::chrono::steady_clock::now();
    auto cache_refilled = bans_loaded;
    const bool refill = !store_->CacheMaxAge();
    for (;;) {
      const auto pause = pipeline.pending_give_backs() > 0 ? std::chrono::milliseconds(100) : std::chrono::seconds(1);
      upkeep_wake.wait_for(lock, stop, pause, [] { return false; });
      if (stop.stop_requested()) return;
      pipeline.RetryGiveBacks();
      if (refill && std::chrono::steady_clock::now() - cache_refilled >= std::chrono::seconds(1)) {
        cache_refilled = std::chrono::steady_clock::now();
        if (auto read = fleet_cache_->Refill(*store_); !read) {
          spdlog::warn("fleet cache: reading changed devices again failed: {}", read.error().message);
        }
      }
      if (std::chrono::steady_clock::now() - bans_loaded < std::chrono::seconds(5)) continue;
      bans_loaded = std::chrono::steady_clock::now();
      if (auto st = defenses->bans().Reload(clock_.Now()); !st) {
        spdlog::warn("reloading bans failed: {}", st.error().message);
      }
    }
  });

  boost::asio::signal_set signals(main, SIGINT, SIGTERM);
  // Runs on the main serving thread, once: the first of a signal and Serving::stop.
  bool shutting_down = false;
  auto shut_down = [&] {
    if (std::exchange(shutting_down, true)) return;
    for (auto& l : listeners) l->Stop();
    if (admin_plane) admin_plane->Stop();
    upkeep.request_stop();
    signals.cancel();
    for (auto& c : contexts) c->stop();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    shut_down();
  });
  if (admin_plane) {
    for (auto& [name, port] : admin_plane->Ports()) ready.admin.push_back({std::move(name), port});
  }
  ready.stop = [&main, &shut_down] { boost::asio::post(main, shut_down); };
  if (options.on_ready) {
    // Runs once this thread serves (main.run() below); every acceptor is listening already.
    boost::asio::post(main, [&] { options.on_ready(ready); });
  }

  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) {
    workers.emplace_back([&c = *contexts[i], i] {
      // Named for `top -H` and ps; the main thread keeps the process name and serves too.
      const std::string name = "pg-serve-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      c.run();
    });
  }
  main.run();
  for (auto& w : workers) w.join();
  upkeep.join();
  // No request runs any more: a give-back still refused by the store is audited as lost.
  pipeline.AbandonGiveBacks();
  // Commit what the last requests submitted while their completions can still be queued.
  audit_->Drain();
  const auto cache = fleet_cache_->stats();
  const auto rendered = pipeline.render_cache_stats();
  spdlog::info(
      "fleet cache: {} reads answered from memory, {} from the store; {} files served "
      "as rendered before, {} rendered",
      cache.hits, cache.misses, rendered.hits, rendered.misses);
  return Ok();
}

}  // namespace provgate::app
