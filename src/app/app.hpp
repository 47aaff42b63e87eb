// Composition root: turns a Config into the object graph (store, audit log, templates,
// vendors, domain services, pipeline, listeners). Nothing else constructs these.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "app/master_key.hpp"
#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "crypto/secret_box.hpp"
#include "pipeline/withheld.hpp"
#include "portal/user_store.hpp"
#include "render/template_set.hpp"
#include "service/admin.hpp"
#include "service/lint.hpp"
#include "store/cached_audit_store.hpp"
#include "store/operator_store.hpp"
#include "store/store.hpp"
#include "vendors/vendor.hpp"

namespace provgate::app {

class App {
 public:
  // kServer also opens the audit trail's own database connection (see audit_connection_);
  // a CLI command needs one connection.
  enum class Role { kCli, kServer };
  // Opens the master key (creating it on first start), the store (applying migrations),
  // the audit log and the templates. `actor` names who acts in admin audit records.
  static Result<std::unique_ptr<App>> Open(Config config, std::string actor, Role role = Role::kCli);
  ~App();

  service::Admin& admin() { return *admin_; }
  store::Store& store() { return *store_; }
  // API keys and the operator plane's paginated queries (its own connection).
  store::OperatorStore& operator_store() { return *operator_store_; }
  // The web portal's users and sessions (its own connection).
  portal::UserStore& portal_users() { return *portal_users_; }
  // The master key's secret box (sealing the portal's TOTP secrets).
  const crypto::SecretBox& secret_box() const { return *box_; }
  audit::AuditLog& audit() { return *audit_; }
  const Clock& clock() const { return clock_; }
  const Config& config() const { return config_; }
  // For offline rendering (the policy linter); the same objects the listeners use.
  const render::TemplateSet& templates() const { return *templates_; }
  const vendors::Registry& vendors() const { return vendors_; }

  // Lints the configs every served device would get with the templates as loaded now: one
  // device per (tenant, vendor, model) without its own variables stands for all such
  // devices, and every device with variables of its own is linted by itself. Each device
  // with an error-severity finding is withheld (served nothing, each refusal audited with
  // the rule) and logged as an ALERT; the others are served. Returns how many are withheld.
  // Templates changed on disk since the last start thus never go live with a hardening
  // hole, and one device's variables never stop the server.
  Result<size_t> CheckTemplates();

  // A listener Serve has bound: its configured name and the port it listens on (the one the
  // kernel chose when the config asks for port 0).
  struct BoundListener {
    std::string name;
    std::uint16_t port = 0;
  };
  // What Serve reports once it serves.
  struct Serving {
    std::vector<BoundListener> devices;  // in config order
    std::vector<BoundListener> admin;    // in config order; empty without an admin plane
    // Shuts Serve down as SIGINT/SIGTERM do. Thread-safe; callable until Serve returns.
    std::function<void()> stop;
  };
  struct ServeOptions {
    // Called once, on the thread that called Serve, when every device and admin listener is
    // bound and accepting and the serving threads run: a request made from then on is
    // served. Must not block (it runs on a serving thread). Never called when Serve fails
    // to start.
    std::function<void(const Serving&)> on_ready;
  };

  // Runs the device listeners, and the admin listeners when configured, until SIGINT/SIGTERM
  // or Serving::stop.
  Status Serve(ServeOptions options = {});

 private:
  App() = default;
  Config config_;
  SystemClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::OperatorStore> operator_store_;
  std::unique_ptr<portal::UserStore> portal_users_;
  // Held shared while this process uses the master key (no rotation meanwhile).
  std::unique_ptr<KeyUseLock> key_lock_;
  std::unique_ptr<crypto::SecretBox> box_;
  // The audit trail's own connection to the same database: its copies write while the
  // serving threads read through store_, which WAL allows, without sharing store_'s lock.
  std::unique_ptr<store::AuditStore> audit_connection_;  // the server's only
  // What the serving threads read through (Serve) and what the copier's last-seen writes
  // update, so it outlives the audit log.
  std::unique_ptr<store::FleetCache> fleet_cache_;
  // audit_connection_ (or store_ for the CLI) through fleet_cache_
  std::unique_ptr<store::CachedAuditStore> audit_store_;
  // Signs the audit chain's checkpoints (the server's only); outlives the audit log.
  std::unique_ptr<crypto::SigningKey> signing_key_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<render::TemplateSet> templates_;
  vendors::Registry vendors_;
  std::unique_ptr<service::Linter> linter_;
  std::unique_ptr<service::Admin> admin_;
  std::shared_ptr<pipeline::WithheldDevices> withheld_;
};

}  // namespace provgate::app
