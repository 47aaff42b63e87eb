#include "app/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "app/admin_config.hpp"

namespace provgate::app {
namespace {

using std::filesystem::path;

Error ConfigError(const path& file, const std::string& key, const std::string& what) {
  return Error::InvalidArgument(fmt::format("{}: {}: {}", file.string(), key, what));
}

path Resolve(const path& base, const std::string& p) {
  const path candidate(p);
  return candidate.is_absolute() ? candidate : base / candidate;
}

// Reads `key` of table `t`; `qualified` is how errors name it ("store.path").
template <class T>
Result<T> Get(const toml::table& t, const path& file, const std::string& qualified, T fallback) {
  const std::string key = qualified.substr(qualified.rfind('.') + 1);
  const toml::node* n = t.get(key);
  if (n == nullptr) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = n->value<std::string>()) return *v;
    return ConfigError(file, qualified, "expected a string");
  } else {
    if (auto v = n->value<std::int64_t>()) {
      if (*v < 0 || static_cast<std::uint64_t>(*v) > std::uint64_t{std::numeric_limits<T>::max()}) {
        return ConfigError(file, qualified, "out of range");
      }
      return static_cast<T>(*v);
    }
    return ConfigError(file, qualified, "expected an integer");
  }
}

Result<std::chrono::milliseconds> GetMillis(const toml::table& t, const path& file, const std::string& qualified,
                                            std::chrono::milliseconds d) {
  PG_TRY(auto v, Get<std::int64_t>(t, file, qualified, d.count()));
  if (v <= 0) return ConfigError(file, qualified, "must be a positive number of milliseconds");
  return std::chrono::milliseconds(v);
}

// Every key a configuration file may hold, per table. A key provgate does not know is an
// error naming it: a misspelt limit must not leave the default silently in force.
struct KnownKeys {
  std::string_view table;  // "" = the top level
  std::vector<std::string_view> keys;
};

const std::vector<KnownKeys>& AllKnownKeys() {
  static const std::vector<KnownKeys> known = {
      {"", {"server", "store", "audit", "identity", "defense", "listener", "admin"}},  // admin: admin_config.cpp
      {"server", {"provisioning_url", "path_prefix", "threads", "templates"}},
      {"store", {"path", "url", "pool_size", "master_key", "cache_devices"}},
      {"audit",
       {"file", "commit_delay_us", "store_copy_delay_ms", "durability", "max_unsynced_ms", "signing_key",
        "checkpoint_records", "checkpoint_seconds"}},
      {"identity", {"mac_rules"}},
      {"defense",
       {"realm",
        "trusted_proxies",
        "forwarded_header",
        "uploads_dir",
        "max_in_flight",
        "device_rate",
        "device_burst",
        "source_rate",
        "source_burst",
        "refusal_rate",
        "refusal_burst",
        "scan_window_seconds",
        "scan_distinct_macs",
        "scan_failed_auths",
        "ban_seconds",
        "ban_max_seconds",
        "ban_factor",
        "never_ban",
        "digest_algorithms",
        "nonce_lifetime",
        "nonce_max_tracked",
        "nonce_key_file"}},
      {"listener",
       {"name",
        "bind",
        "port",
        "plain_http",
        "methods",
        "proxy_protocol_from",
        "cert",
        "key",
        "client_cert",
        "trust_anchors",
        "session_cache",
        "handshake_timeout_ms",
        "header_timeout_ms",
        "idle_timeout_ms",
        "max_header_bytes",
        "max_body_bytes",
        "max_requests_per_connection",
        "max_connections",
        "cert2",
        "key2",
        "tls_profile"}},
  };
  return known;
}

Status CheckKeys(const toml::table& t, const path& file, std::string_view table, const std::string& where) {
  for (const auto& k : AllKnownKeys()) {
    if (k.table != table) continue;
    for (const auto& [key, node] : t) {
      if (std::find(k.keys.begin(), k.keys.end(), key.str()) == k.keys.end()) {
        return ConfigError(file, where.empty() ? std::string(key.str()) : where + "." + std::string(key.str()),
                           "unknown key (see docs/configuration.md)");
      }
    }
  }
  return Ok();
}

Status CheckKnownKeys(const toml::table& root, const path& file) {
  PG_TRY_STATUS(CheckKeys(root, file, "", ""));
  for (const auto& k : AllKnownKeys()) {
    if (k.table.empty()) continue;
    const toml::node* n = root.get(k.table);
    if (n == nullptr) continue;
    if (const auto* t = n->as_table()) {
      PG_TRY_STATUS(CheckKeys(*t, file, k.table, std::string(k.table)));
    } else if (const auto* a = n->as_array()) {
      for (size_t i = 0; i < a->size(); ++i) {
        const auto* t_i = (*a)[i].as_table();
        if (t_i == nullptr) continue;  // reported by the table's own parser
        PG_TRY_STATUS(CheckKeys(*t_i, file, k.table, fmt::format("{}[{}]", k.table, i)));
      }
    } else {
      return ConfigError(file, std::string(k.table), "expected a table");
    }
  }
  return Ok();
}

Result<http::ListenerConfig> ParseListener(const toml::table& t, const path& file, const path& base, size_t index) {
  http::ListenerConfig l;
  const std::string where = fmt::format("listener[{}]", index);
  PG_TRY(l.name, Get<std::string>(t, file, where + ".name", fmt::format("listener{}", index)));
  PG_TRY(l.bind, Get<std::string>(t, file, where + ".bind", "0.0.0.0"));
  PG_TRY(l.port, Get<std::uint16_t>(t, file, where + ".port", 8443));
  if (const auto* plain = t.get("plain_http")) {
    auto v = plain->value<bool>();
    if (!v) return ConfigError(file, where + ".plain_http", "expected true or false");
    l.plain_http = *v;
  }
  if (const auto* methods = t.get_as<toml::array>("methods")) {
    l.methods = pipeline::AllowedMethods{false, false, false, false};
    for (const auto& m : *methods) {
      const auto name = m.value<std::string>().value_or("");
      if (name == "client-cert")
        l.methods.client_cert = true;
      else if (name == "token")
        l.methods.token = true;
      else if (name == "digest")
        l.methods.digest = true;
      else if (name == "ip")
        l.methods.ip = true;
      else
        return ConfigError(file, where + ".methods", "'" + name + "' is not one of client-cert, token, digest, ip");
    }
  }
  if (const auto* proxies = t.get_as<toml::array>("proxy_protocol_from")) {
    for (const auto& e : *proxies) {
      auto v = e.value<std::string>();
      if (!v) return ConfigError(file, where + ".proxy_protocol_from", "expected a list of CIDRs");
      l.proxy_protocol_from.push_back(*v);
    }
  }
  auto& lim = l.limits;
  PG_TRY(lim.handshake_timeout, GetMillis(t, file, where + ".handshake_timeout_ms", lim.handshake_timeout));
  PG_TRY(lim.header_timeout, GetMillis(t, file, where + ".header_timeout_ms", lim.header_timeout));
  PG_TRY(lim.idle_timeout, GetMillis(t, file, where + ".idle_timeout_ms", lim.idle_timeout));
  PG_TRY(lim.max_header_bytes, Get<std::uint32_t>(t, file, where + ".max_header_bytes", lim.max_header_bytes));
  PG_TRY(lim.max_body_bytes, Get<std::uint64_t>(t, file, where + ".max_body_bytes", lim.max_body_bytes));
  PG_TRY(lim.max_requests_per_connection,
         Get<std::uint32_t>(t, file, where + ".max_requests_per_connection", lim.max_requests_per_connection));
  PG_TRY(lim.max_connections, Get<std::uint32_t>(t, file, where + ".max_connections", lim.max_connections));
  if (lim.max_connections < 1) return ConfigError(file, where + ".max_connections", "must be at least 1");
  if (lim.max_header_bytes < 512) return ConfigError(file, where + ".max_header_bytes", "must be at least 512");
  if (l.plain_http) {
    // Over plain HTTP only digest authenticates (pipeline/authorize.cpp): a certificate needs
    // TLS, a URL token would cross the network in clear, and a source range alone is not
    // accepted there.
    if (t.contains("methods") && (l.methods.client_cert || l.methods.token || l.methods.ip)) {
      return ConfigError(file, where + ".methods",
                         "a plain-HTTP listener accepts only [\"digest\"]: a URL token would cross the network in "
                         "clear, and certificates and source ranges are not accepted without TLS");
    }
    l.methods = pipeline::AllowedMethods{false, false, true, false};
    return l;  // no TLS settings on a plain listener
  }
  PG_TRY(auto cert, Get<std::string>(t, file, where + ".cert", ""));
  PG_TRY(auto key, Get<std::string>(t, file, where + ".key", ""));
  if (cert.empty() || key.empty()) {
    return ConfigError(file, where, "'cert' and 'key' (server certificate and key, PEM) are required");
  }
  l.tls.cert_file = Resolve(base, cert);
  l.tls.key_file = Resolve(base, key);
  PG_TRY(auto cert2, Get<std::string>(t, file, where + ".cert2", ""));
  PG_TRY(auto key2, Get<std::string>(t, file, where + ".key2", ""));
  if (cert2.empty() != key2.empty()) {
    return ConfigError(file, where, "'cert2' and 'key2' (a second server certificate and key) go together");
  }
  if (!cert2.empty()) l.tls.more_certs.push_back({Resolve(base, cert2), Resolve(base, key2)});
  PG_TRY(auto profile, Get<std::string>(t, file, where + ".tls_profile", "modern"));
  auto parsed_profile = tls::ParseTlsProfile(profile);
  if (!parsed_profile) return ConfigError(file, where + ".tls_profile", parsed_profile.error().message);
  l.tls.profile = *parsed_profile;
  PG_TRY(auto mode, Get<std::string>(t, file, where + ".client_cert", "required"));
  auto parsed_mode = tls::ParseClientCertMode(mode);
  if (!parsed_mode) return ConfigError(file, where + ".client_cert", parsed_mode.error().message);
  l.tls.client_cert = *parsed_mode;
  if (const auto* anchors = t.get_as<toml::array>("trust_anchors")) {
    for (const auto& a : *anchors) {
      auto s = a.value<std::string>();
      if (!s) return ConfigError(file, where + ".trust_anchors", "expected a list of PEM file paths");
      l.tls.trust_anchors.push_back(Resolve(base, *s));
    }
  }
  PG_TRY(auto sessions, Get<std::int64_t>(t, file, where + ".session_cache", l.tls.session_cache));
  if (sessions < 0 || sessions > tls::kMaxSessionCache) {
    return ConfigError(file, where + ".session_cache",
                       "must be between 0 (no resumption) and " + std::to_string(tls::kMaxSessionCache));
  }
  l.tls.session_cache = static_cast<int>(sessions);
  if (l.tls.client_cert != tls::ClientCertMode::kOff && l.tls.trust_anchors.empty()) {
    return ConfigError(file, where + ".trust_anchors",
                       "a listener that accepts client certificates needs at least one device CA bundle");
  }
  return l;
}

Result<std::vector<std::string>> GetStrings(const toml::table& t, const path& file, const std::string& qualified) {
  std::vector<std::string> out;
  const std::string key = qualified.substr(qualified.rfind('.') + 1);
  if (const auto* a = t.get_as<toml::array>(key)) {
    for (const auto& e : *a) {
      auto v = e.value<std::string>();
      if (!v) return ConfigError(file, qualified, "expected a list of strings");
      out.push_back(*v);
    }
  } else if (t.get(key) != nullptr) {
    return ConfigError(file, qualified, "expected a list of strings");
  }
  return out;
}

Result<double> GetPositive(const toml::table& t, const path& file, const std::string& qualified, double d) {
  const std::string key = qualified.substr(qualified.rfind('.') + 1);
  const toml::node* n = t.get(key);
  if (n == nullptr) return d;
  auto v = n->value<double>();
  if (!v || *v <= 0) return ConfigError(file, qualified, "expected a positive number");
  return *v;
}

Status ParseDefense(const toml::table& t, const path& file, const path& base, pipeline::DefenseOptions& o) {
  PG_TRY(o.realm, Get<std::string>(t, file, "defense.realm", o.realm));
  PG_TRY(auto proxies, GetStrings(t, file, "defense.trusted_proxies"));
  auto proxy_set = net::IpSet::Parse(proxies);
  if (!proxy_set) return ConfigError(file, "defense.trusted_proxies", proxy_set.error().message);
  o.trusted_proxies.proxies = *proxy_set;
  // No default header: which one the proxies write (and so which one a client cannot
  // forge through them) is the operator's to say, and trusted proxies without it would
  // silently make every client the proxy.
  if (!proxies.empty() && t.get("forwarded_header") == nullptr) {
    return ConfigError(file, "defense.forwarded_header",
                       "trusted_proxies is set: say which header those proxies write "
                       "(x-forwarded-for, forwarded) or none");
  }
  PG_TRY(auto header, Get<std::string>(t, file, "defense.forwarded_header", "none"));
  if (header == "none")
    o.trusted_proxies.header = net::ForwardedHeader::kNone;
  else if (header == "x-forwarded-for")
    o.trusted_proxies.header = net::ForwardedHeader::kXForwardedFor;
  else if (header == "forwarded")
    o.trusted_proxies.header = net::ForwardedHeader::kForwarded;
  else
    return ConfigError(file, "defense.forwarded_header", "expected none, x-forwarded-for or forwarded");
  PG_TRY(auto uploads, Get<std::string>(t, file, "defense.uploads_dir", "uploads"));
  o.uploads_dir = Resolve(base, uploads);
  PG_TRY(o.concurrency.max_in_flight, Get<size_t>(t, file, "defense.max_in_flight", o.concurrency.max_in_flight));
  if (t.get("digest_algorithms") != nullptr) {
    PG_TRY(auto names, GetStrings(t, file, "defense.digest_algorithms"));
    o.digest_algorithms.clear();
    for (const auto& name : names) {
      if (name == "SHA-256")
        o.digest_algorithms.push_back(defense::DigestAlgorithm::kSha256);
      else if (name == "MD5")
        o.digest_algorithms.push_back(defense::DigestAlgorithm::kMd5);
      else
        return ConfigError(file, "defense.digest_algorithms", "'" + name + "' is not one of SHA-256, MD5");
    }
    if (o.digest_algorithms.empty()) {
      return ConfigError(file, "defense.digest_algorithms", "needs at least one algorithm (SHA-256, MD5)");
    }
  }
  PG_TRY(auto nonce_lifetime, Get<std::int64_t>(t, file, "defense.nonce_lifetime", o.nonces.lifetime.count()));
  if (nonce_lifetime < 10 || nonce_lifetime > 86400) {
    return ConfigError(file, "defense.nonce_lifetime", "must be between 10 and 86400 (seconds)");
  }
  o.nonces.lifetime = Seconds(nonce_lifetime);
  PG_TRY(o.nonces.max_tracked, Get<size_t>(t, file, "defense.nonce_max_tracked", o.nonces.max_tracked));
  if (o.nonces.max_tracked < 1) return ConfigError(file, "defense.nonce_max_tracked", "must be at least 1");
  PG_TRY(auto nonce_key, Get<std::string>(t, file, "defense.nonce_key_file", ""));
  if (!nonce_key.empty()) o.nonce_key_file = Resolve(base, nonce_key);
  auto& dev = o.rate.classes["device"];
  auto& ip = o.rate.classes["ip"];
  auto& refusal = o.rate.classes["refusal"];
  PG_TRY(refusal.per_second, GetPositive(t, file, "defense.refusal_rate", refusal.per_second));
  PG_TRY(refusal.burst, GetPositive(t, file, "defense.refusal_burst", refusal.burst));
  PG_TRY(dev.per_second, GetPositive(t, file, "defense.device_rate", dev.per_second));
  PG_TRY(dev.burst, GetPositive(t, file, "defense.device_burst", dev.burst));
  PG_TRY(ip.per_second, GetPositive(t, file, "defense.source_rate", ip.per_second));
  PG_TRY(ip.burst, GetPositive(t, file, "defense.source_burst", ip.burst));
  PG_TRY(auto window, Get<std::int64_t>(t, file, "defense.scan_window_seconds", o.scan.window.count()));
  o.scan.window = Seconds(window);
  PG_TRY(o.scan.per_address.distinct_macs,
         Get<int>(t, file, "defense.scan_distinct_macs", o.scan.per_address.distinct_macs));
  PG_TRY(o.scan.per_address.failed_auths,
         Get<int>(t, file, "defense.scan_failed_auths", o.scan.per_address.failed_auths));
  PG_TRY(auto ban, Get<std::int64_t>(t, file, "defense.ban_seconds", o.bans.base.count()));
  o.bans.base = Seconds(ban);
  PG_TRY(auto ban_max, Get<std::int64_t>(t, file, "defense.ban_max_seconds", o.bans.max.count()));
  o.bans.max = Seconds(ban_max);
  PG_TRY(o.bans.factor, GetPositive(t, file, "defense.ban_factor", o.bans.factor));
  PG_TRY(auto allow, GetStrings(t, file, "defense.never_ban"));
  auto allow_set = net::IpSet::Parse(allow);
  if (!allow_set) return ConfigError(file, "defense.never_ban", allow_set.error().message);
  o.bans.allowlist = *allow_set;
  return Ok();
}

}  // namespace

std::filesystem::path DefaultTemplatesDir() { return PROVGATE_TEMPLATES_DIR; }

// Beside the master key unless the config says otherwise: both are the node's secrets.
std::filesystem::path AuditSigningKeyPath(const Config& c) {
  return !c.audit_signing_key_path.empty() ? c.audit_signing_key_path
                                           : c.master_key_path.parent_path() / "audit-signing.key";
}

Result<Config> LoadConfig(const std::filesystem::path& file) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return Error::InvalidArgument(
        fmt::format("{}:{}:{}: {}", file.string(), e.source().begin.line, e.source().begin.column, e.description()));
  }
  PG_TRY_STATUS(CheckKnownKeys(root, file));
  Config c;
  c.config_file = std::filesystem::absolute(file);
  const path base = c.config_file.parent_path();
  const toml::table empty;
  const toml::table& server = root["server"].as_table() ? *root["server"].as_table() : empty;
  const toml::table& store = root["store"].as_table() ? *root["store"].as_table() : empty;
  const toml::table& audit = root["audit"].as_table() ? *root["audit"].as_table() : empty;

  PG_TRY(auto db, Get<std::string>(store, file, "store.path", "provgate.db"));
  PG_TRY(auto key, Get<std::string>(store, file, "store.master_key", "master.key"));
  PG_TRY(auto audit_file, Get<std::string>(audit, file, "audit.file", "audit.log"));
  PG_TRY(auto templates, Get<std::string>(server, file, "server.templates", ""));
  c.db_path = Resolve(base, db);
  c.master_key_path = Resolve(base, key);
  PG_TRY(auto cache_devices,
         Get<std::int64_t>(store, file, "store.cache_devices", static_cast<std::int64_t>(c.cache_devices)));
  if (cache_devices < 0 || cache_devices > 10'000'000) {
    return ConfigError(file, "store.cache_devices", "must be between 0 and 10000000 (devices)");
  }
  c.cache_devices = static_cast<size_t>(cache_devices);
  PG_TRY(c.store_url, Get<std::string>(store, file, "store.url", ""));
  if (!c.store_url.empty() && !c.store_url.starts_with("postgresql://") && !c.store_url.starts_with("postgres://")) {
    return ConfigError(file, "store.url", "must be a PostgreSQL URL (postgresql://user@host:5432/database)");
  }
  PG_TRY(auto pool_size,
         Get<std::int64_t>(store, file, "store.pool_size", static_cast<std::int64_t>(c.store_pool_size)));
  if (pool_size < 1 || pool_size > 1000) {
    return ConfigError(file, "store.pool_size", "must be between 1 and 1000 (connections)");
  }
  c.store_pool_size = static_cast<size_t>(pool_size);
  c.audit_path = Resolve(base, audit_file);
  PG_TRY(auto delay_us, Get<std::int64_t>(audit, file, "audit.commit_delay_us", c.audit.commit_delay.count()));
  if (delay_us < 0 || delay_us > 100'000) {
    return ConfigError(file, "audit.commit_delay_us", "must be between 0 and 100000 (microseconds)");
  }
  c.audit.commit_delay = std::chrono::microseconds(delay_us);
  PG_TRY(auto copy_ms, Get<std::int64_t>(audit, file, "audit.store_copy_delay_ms", c.audit.store_copy_delay.count()));
  if (copy_ms < 0 || copy_ms > 60'000) {
    return ConfigError(file, "audit.store_copy_delay_ms", "must be between 0 and 60000 (milliseconds)");
  }
  c.audit.store_copy_delay = std::chrono::milliseconds(copy_ms);
  PG_TRY(auto durability, Get<std::string>(audit, file, "audit.durability", "secrets-and-changes"));
  if (durability != "secrets-and-changes" && durability != "all") {
    return ConfigError(file, "audit.durability",
                       "must be \"secrets-and-changes\" (a response waits for its record on disk when it "
                       "releases a secret or changed state) or \"all\" (every response waits)");
  }
  c.audit.hold_every_response = durability == "all";
  PG_TRY(auto unsynced_ms, Get<std::int64_t>(audit, file, "audit.max_unsynced_ms", c.audit.max_unsynced.count()));
  if (unsynced_ms < 0 || unsynced_ms > 1000) {
    return ConfigError(file, "audit.max_unsynced_ms", "must be between 0 and 1000 (milliseconds)");
  }
  c.audit.max_unsynced = std::chrono::milliseconds(unsynced_ms);
  PG_TRY(auto signing_key, Get<std::string>(audit, file, "audit.signing_key", ""));
  if (!signing_key.empty()) c.audit_signing_key_path = Resolve(base, signing_key);
  PG_TRY(c.audit.checkpoint_records,
         Get<std::int64_t>(audit, file, "audit.checkpoint_records", c.audit.checkpoint_records));
  if (c.audit.checkpoint_records < 1 || c.audit.checkpoint_records > 1'000'000) {
    return ConfigError(file, "audit.checkpoint_records", "must be between 1 and 1000000 (records)");
  }
  PG_TRY(auto checkpoint_s,
         Get<std::int64_t>(audit, file, "audit.checkpoint_seconds", c.audit.checkpoint_interval.count()));
  if (checkpoint_s < 1 || checkpoint_s > 86'400) {
    return ConfigError(file, "audit.checkpoint_seconds", "must be between 1 and 86400 (seconds)");
  }
  c.audit.checkpoint_interval = std::chrono::seconds(checkpoint_s);
  c.templates_dir = templates.empty() ? DefaultTemplatesDir() : Resolve(base, templates);
  PG_TRY(c.threads, Get<int>(server, file, "server.threads", 0));
  PG_TRY(c.provisioning_url, Get<std::string>(server, file, "server.provisioning_url", ""));
  PG_TRY(c.path_prefix, Get<std::string>(server, file, "server.path_prefix", "/"));
  if (c.path_prefix.empty() || c.path_prefix.front() != '/' || c.path_prefix.back() != '/') {
    return ConfigError(file, "server.path_prefix", "must start and end with '/', e.g. \"/\" or \"/cfg/\"");
  }

  if (const auto* rules = root["identity"]["mac_rules"].as_array()) {
    for (const auto& r : *rules) {
      auto s = r.value<std::string>();
      if (!s) return ConfigError(file, "identity.mac_rules", "expected a list of rule strings");
      auto rule = tls::ParseMacRule(*s);
      if (!rule) return ConfigError(file, "identity.mac_rules", rule.error().message);
      c.mac_rules.push_back(std::move(*rule));
    }
  } else {
    c.mac_rules = tls::DefaultMacRules();
  }

  if (const auto* d = root["defense"].as_table()) {
    PG_TRY_STATUS(ParseDefense(*d, file, base, c.defense));
  } else {
    c.defense.uploads_dir = base / "uploads";
  }

  const auto* listeners = root["listener"].as_array();
  if (listeners == nullptr || listeners->empty()) {
    return ConfigError(file, "listener", "at least one [[listener]] table is required");
  }
  for (size_t i = 0; i < listeners->size(); ++i) {
    const auto* t = (*listeners)[i].as_table();
    if (t == nullptr) return ConfigError(file, "listener", "each [[listener]] must be a table");
    PG_TRY(auto l, ParseListener(*t, file, base, i));
    c.listeners.push_back(std::move(l));
  }
  PG_TRY(c.admin, ParseAdminListeners(root, file, base, c.listeners));
  return c;
}

}  // namespace provgate::app
