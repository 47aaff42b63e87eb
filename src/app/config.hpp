// provgate.toml: everything an operator configures, parsed and checked once at start-up.
// Relative paths are resolved against the directory of the config file. See
// docs/configuration.md for every key.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "api/admin_listener.hpp"
#include "audit/audit_log.hpp"
#include "base/result.hpp"
#include "http/listener.hpp"
#include "pipeline/defenses.hpp"
#include "tls/cert_identity.hpp"

namespace provgate::app {

struct Config {
  std::filesystem::path config_file;
  std::filesystem::path db_path;  // the SQLite database, unless store_url names a server
  // A PostgreSQL connection URL: the store is on that server (store::PostgresStore), with at
  // most store_pool_size connections. Empty: SQLite at db_path.
  std::string store_url;
  size_t store_pool_size = 8;
  std::filesystem::path master_key_path;
  size_t cache_devices = 10000;  // the server's fleet cache (store::FleetCache); 0 = off
  std::filesystem::path audit_path;
  // The Ed25519 key that signs the audit chain's checkpoints ([audit] signing_key); empty:
  // the default, AuditSigningKeyPath.
  std::filesystem::path audit_signing_key_path;
  audit::AuditOptions audit;
  std::filesystem::path templates_dir;
  int threads = 0;  // 0 = one per core
  std::string provisioning_url;
  std::string path_prefix = "/";
  std::vector<tls::MacRule> mac_rules;
  std::vector<http::ListenerConfig> listeners;
  std::vector<api::AdminListenerConfig> admin;  // [[admin]]: none = no admin plane
  pipeline::DefenseOptions defense = pipeline::DefaultDefenseOptions();
};

// Errors name the file, the key and what is expected.
Result<Config> LoadConfig(const std::filesystem::path& file);

// The audit signing key's file: the configured one, else audit-signing.key beside the master
// key. Created at the server's first start.
std::filesystem::path AuditSigningKeyPath(const Config& c);

// The templates shipped with this build (set at compile time), used when the config names none.
std::filesystem::path DefaultTemplatesDir();

}  // namespace provgate::app
