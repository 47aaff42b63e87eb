#include "app/admin_config.hpp"

#include <fmt/format.h>

#include <limits>
#include <set>

namespace provgate::app {
namespace {

using std::filesystem::path;

Error ConfigError(const path& file, const std::string& key, const std::string& what) {
  return Error::InvalidArgument(fmt::format("{}: {}: {}", file.string(), key, what));
}

const std::set<std::string, std::less<>> kKnownKeys = {"name",
                                                       "bind",
                                                       "port",
                                                       "cert",
                                                       "key",
                                                       "client_cert",
                                                       "trust_anchors",
                                                       "handshake_timeout_ms",
                                                       "header_timeout_ms",
                                                       "request_timeout_ms",
                                                       "idle_timeout_ms",
                                                       "max_header_bytes",
                                                       "max_connections",
                                                       "max_connections_per_source",
                                                       "max_json_bytes",
                                                       "max_import_bytes",
                                                       "cors_origins",
                                                       "key_rate",
                                                       "key_burst",
                                                       "auth_max_failures",
                                                       "auth_window_seconds",
                                                       "auth_block_seconds",
                                                       "imports_dir",
                                                       "engineer_window_seconds",
                                                       "sign_in_max_failures",
                                                       "sign_in_window_seconds",
                                                       "sign_in_block_seconds"};

Result<std::string> Text(const toml::table& t, const path& file, const std::string& where, const char* key,
                         std::string fallback) {
  const auto* n = t.get(key);
  if (n == nullptr) return fallback;
  if (auto v = n->value<std::string>()) return *v;
  return ConfigError(file, where + "." + key, "expected a string");
}

Result<std::int64_t> Integer(const toml::table& t, const path& file, const std::string& where, const char* key,
                             std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const auto* n = t.get(key);
  if (n == nullptr) return fallback;
  auto v = n->value<std::int64_t>();
  if (!v || *v < min || *v > max) {
    return ConfigError(file, where + "." + key, fmt::format("expected an integer from {} to {}", min, max));
  }
  return *v;
}

Result<double> Positive(const toml::table& t, const path& file, const std::string& where, const char* key,
                        double fallback) {
  const auto* n = t.get(key);
  if (n == nullptr) return fallback;
  auto v = n->value<double>();
  if (!v || *v <= 0) return ConfigError(file, where + "." + key, "expected a positive number");
  return *v;
}

Result<std::vector<std::string>> Strings(const toml::table& t, const path& file, const std::string& where,
                                         const char* key) {
  std::vector<std::string> out;
  const auto* n = t.get(key);
  if (n == nullptr) return out;
  const auto* a = n->as_array();
  if (a == nullptr) return ConfigError(file, where + "." + key, "expected a list of strings");
  for (const auto& e : *a) {
    auto v = e.value<std::string>();
    if (!v) return ConfigError(file, where + "." + key, "expected a list of strings");
    out.push_back(*v);
  }
  return out;
}

// An origin as browsers send it: scheme://host[:port], nothing after.
bool IsOrigin(const std::string& o) {
  const auto scheme_end = o.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = o.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") return false;
  const std::string rest = o.substr(scheme_end + 3);
  if (rest.empty()) return false;
  for (char c : rest) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']')) {
      return false;
    }
  }
  return true;
}

Result<api::AdminListenerConfig> ParseOne(const toml::table& t, const path& file, const path& base, size_t index) {
  const std::string where = fmt::format("admin[{}]", index);
  for (const auto& [k, v] : t) {
    if (!kKnownKeys.contains(k.str())) {
      return ConfigError(file, where + "." + std::string(k.str()), "unknown key (see docs/configuration.md)");
    }
  }
  api::AdminListenerConfig c;
  PG_TRY(c.name, Text(t, file, where, "name", index == 0 ? "admin" : fmt::format("admin{}", index)));
  PG_TRY(c.bind, Text(t, file, where, "bind", "127.0.0.1"));
  PG_TRY(auto port, Integer(t, file, where, "port", 9443, 0, 65535));
  c.port = static_cast<std::uint16_t>(port);
  PG_TRY(auto cert, Text(t, file, where, "cert", ""));
  PG_TRY(auto key, Text(t, file, where, "key", ""));
  if (cert.empty() || key.empty()) {
    return ConfigError(file, where,
                       "'cert' and 'key' (server certificate and key, PEM) are required: the admin "
                       "plane is served over TLS only");
  }
  auto resolve = [&base](const std::string& p) { return path(p).is_absolute() ? path(p) : base / p; };
  c.tls.cert_file = resolve(cert);
  c.tls.key_file = resolve(key);
  PG_TRY(auto mode, Text(t, file, where, "client_cert", "off"));
  auto parsed_mode = tls::ParseClientCertMode(mode);
  if (!parsed_mode) return ConfigError(file, where + ".client_cert", parsed_mode.error().message);
  c.tls.client_cert = *parsed_mode;
  PG_TRY(auto anchors, Strings(t, file, where, "trust_anchors"));
  for (const auto& a : anchors) c.tls.trust_anchors.push_back(resolve(a));
  if (c.tls.client_cert != tls::ClientCertMode::kOff && c.tls.trust_anchors.empty()) {
    return ConfigError(file, where + ".trust_anchors", "operator client certificates need the operator CA bundle");
  }
  PG_TRY(auto hs, Integer(t, file, where, "handshake_timeout_ms", c.handshake_timeout.count(), 1, 600'000));
  PG_TRY(auto hd, Integer(t, file, where, "header_timeout_ms", c.header_timeout.count(), 1, 600'000));
  PG_TRY(auto rq, Integer(t, file, where, "request_timeout_ms", c.request_timeout.count(), 1, 3'600'000));
  PG_TRY(auto idle, Integer(t, file, where, "idle_timeout_ms", c.idle_timeout.count(), 1, 3'600'000));
  c.handshake_timeout = std::chrono::milliseconds(hs);
  c.header_timeout = std::chrono::milliseconds(hd);
  c.request_timeout = std::chrono::milliseconds(rq);
  c.idle_timeout = std::chrono::milliseconds(idle);
  PG_TRY(auto header, Integer(t, file, where, "max_header_bytes", c.max_header_bytes, 1024, 1 << 20));
  c.max_header_bytes = static_cast<std::uint32_t>(header);
  PG_TRY(auto conns, Integer(t, file, where, "max_connections", c.max_connections, 1, 10'000));
  c.max_connections = static_cast<std::uint32_t>(conns);
  PG_TRY(auto per_source,
         Integer(t, file, where, "max_connections_per_source", c.max_connections_per_source, 1, 10'000));
  c.max_connections_per_source = static_cast<std::uint32_t>(per_source);
  PG_TRY(auto json,
         Integer(t, file, where, "max_json_bytes", static_cast<std::int64_t>(c.api.max_json_bytes), 1024, 64 << 20));
  c.api.max_json_bytes = static_cast<size_t>(json);
  PG_TRY(auto import, Integer(t, file, where, "max_import_bytes", static_cast<std::int64_t>(c.api.max_import_bytes),
                              1024, std::int64_t{1} << 30));
  c.api.max_import_bytes = static_cast<size_t>(import);
  PG_TRY(c.api.cors_origins, Strings(t, file, where, "cors_origins"));
  for (const auto& o : c.api.cors_origins) {
    if (!IsOrigin(o)) {
      return ConfigError(file, where + ".cors_origins",
                         "'" + o + "' is not an origin such as https://portal.example.com ('*' is never allowed)");
    }
  }
  PG_TRY(c.api.per_key.per_second, Positive(t, file, where, "key_rate", c.api.per_key.per_second));
  PG_TRY(c.api.per_key.burst, Positive(t, file, where, "key_burst", c.api.per_key.burst));
  if (c.api.per_key.burst < 20)
    return ConfigError(file, where + ".key_burst", "must be at least 20 (an import costs 20)");
  auto& af = c.api.auth_failures;
  PG_TRY(auto maxf, Integer(t, file, where, "auth_max_failures", af.max_failures, 1, 100'000));
  af.max_failures = static_cast<int>(maxf);
  PG_TRY(af.window_seconds, Integer(t, file, where, "auth_window_seconds", af.window_seconds, 1, 86'400));
  PG_TRY(af.block_seconds, Integer(t, file, where, "auth_block_seconds", af.block_seconds, 1, 86'400));
  auto& sf = c.sign_in_failures;
  PG_TRY(auto max_sign_in, Integer(t, file, where, "sign_in_max_failures", sf.max_failures, 1, 100'000));
  sf.max_failures = static_cast<int>(max_sign_in);
  PG_TRY(sf.window_seconds, Integer(t, file, where, "sign_in_window_seconds", sf.window_seconds, 1, 86'400));
  PG_TRY(sf.block_seconds, Integer(t, file, where, "sign_in_block_seconds", sf.block_seconds, 1, 86'400));
  PG_TRY(auto imports, Text(t, file, where, "imports_dir", "imports"));
  c.api.imports_dir = resolve(imports);
  PG_TRY(c.engineer_window_seconds,
         Integer(t, file, where, "engineer_window_seconds", c.engineer_window_seconds, 1, 7 * 86'400));
  return c;
}

}  // namespace

Result<std::vector<api::AdminListenerConfig>> ParseAdminListeners(const toml::table& root, const path& file,
                                                                  const path& base,
                                                                  const std::vector<http::ListenerConfig>& devices) {
  std::vector<api::AdminListenerConfig> out;
  const auto* node = root.get("admin");
  if (node == nullptr) return out;
  const auto* tables = node->as_array();
  if (tables == nullptr) return ConfigError(file, "admin", "expected [[admin]] tables");
  for (size_t i = 0; i < tables->size(); ++i) {
    const auto* t = (*tables)[i].as_table();
    if (t == nullptr) return ConfigError(file, "admin", "each [[admin]] must be a table");
    PG_TRY(auto c, ParseOne(*t, file, base, i));
    if (c.port != 0) {
      for (const auto& d : devices) {
        if (d.port == c.port) {
          return ConfigError(file, fmt::format("admin[{}].port", i),
                             fmt::format("{} is the port of device listener '{}'; the admin plane never shares a "
                                         "port with devices",
                                         c.port, d.name));
        }
      }
      for (const auto& other : out) {
        if (other.port == c.port) return ConfigError(file, fmt::format("admin[{}].port", i), "used twice");
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace provgate::app
