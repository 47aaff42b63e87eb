#include "bench/options.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <optional>

namespace provgate::bench {
namespace {

template <class T>
std::optional<T> ParseNumber(std::string_view s) {
  T v{};
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end) return std::nullopt;
  return v;
}

Error Bad(std::string_view option, std::string_view why) {
  return Error::InvalidArgument("--" + std::string(option) + ": " + std::string(why));
}

}  // namespace

const char* ConnModeName(ConnMode m) {
  switch (m) {
    case ConnMode::kPerRequest: return "per-request";
    case ConnMode::kPerDevice: return "per-device";
    case ConnMode::kKeepAlive: return "keep-alive";
  }
  return "?";
}

const char* TlsVersionName(TlsVersion v) { return v == TlsVersion::kTls12 ? "1.2" : "1.3"; }

bool IsLoopbackAddress(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static constexpr unsigned char kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6.s6_addr, kLoop, 16) == 0) return true;
    return std::memcmp(v6.s6_addr, kMapped, 12) == 0 && v6.s6_addr[12] == 127;
  }
  return false;
}

Result<LoadgenOptions> ParseLoadgenArgs(const std::vector<std::string>& args) {
  LoadgenOptions o;
  bool concurrency_set = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) return Error::InvalidArgument("unexpected argument " + args[i]);
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    // Flags without a value.
    if (name == "verify-status" || name == "wrong-device") {
      if (inline_value) return Bad(name, "takes no value");
      if (name == "verify-status")
        o.verify_body = true;
      else {
        o.sequence = Sequence::kWrongDevice;
        o.expect_status = 404;
      }
      continue;
    }
    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= args.size()) return Bad(name, "needs a value");
      value = args[++i];
    }
    if (name == "host") {
      o.host = value;
    } else if (name == "port") {
      auto v = ParseNumber<std::uint16_t>(value);
      if (!v || *v == 0) return Bad(name, "expects a port 1-65535");
      o.port = *v;
    } else if (name == "sni") {
      o.sni = value;
    } else if (name == "cacert") {
      o.ca_file = value;
    } else if (name == "certs") {
      o.certs_dir = value;
    } else if (name == "devices") {
      auto v = ParseNumber<std::uint64_t>(value);
      if (!v || *v == 0) return Bad(name, "expects a positive count");
      o.devices = *v;
    } else if (name == "conn") {
      if (value == "per-request")
        o.conn = ConnMode::kPerRequest;
      else if (value == "per-device")
        o.conn = ConnMode::kPerDevice;
      else if (value == "keep-alive")
        o.conn = ConnMode::kKeepAlive;
      else
        return Bad(name, "expects per-request, per-device or keep-alive");
    } else if (name == "tls") {
      if (value == "1.2")
        o.tls = TlsVersion::kTls12;
      else if (value == "1.3")
        o.tls = TlsVersion::kTls13;
      else
        return Bad(name, "expects 1.2 or 1.3");
    } else if (name == "concurrency") {
      auto v = ParseNumber<int>(value);
      if (!v || *v < 1 || *v > kMaxConcurrency) return Bad(name, "expects 1-20000");
      o.concurrency = *v;
      concurrency_set = true;
    } else if (name == "rate") {
      auto v = ParseNumber<double>(value);
      if (!v || !(*v > 0) || *v > kMaxRate) return Bad(name, "expects a rate in (0, 200000] req/s");
      o.rate = *v;
    } else if (name == "duration") {
      auto v = ParseNumber<double>(value);
      if (!v || !(*v > 0) || *v > kMaxDurationS) return Bad(name, "expects seconds in (0, 3600]");
      o.duration_s = *v;
    } else if (name == "count") {
      auto v = ParseNumber<std::uint64_t>(value);
      if (!v || *v == 0 || *v > kMaxCount) return Bad(name, "expects 1-100000000");
      o.count = *v;
    } else if (name == "timeout-ms") {
      auto v = ParseNumber<int>(value);
      if (!v || *v < 1 || *v > 60'000) return Bad(name, "expects 1-60000");
      o.timeout_ms = *v;
    } else if (name == "requests-per-conn") {
      auto v = ParseNumber<int>(value);
      if (!v || *v < 1 || *v > 1'000'000) return Bad(name, "expects 1-1000000");
      o.requests_per_conn = *v;
    } else if (name == "common-file") {
      if (value.empty() || value.find('/') != std::string_view::npos) return Bad(name, "expects a file name");
      o.common_file = value;
    } else if (name == "server-pid") {
      auto v = ParseNumber<int>(value);
      if (!v || *v <= 0) return Bad(name, "expects a process id");
      o.server_pids.push_back(*v);
    } else if (name == "json") {
      o.json_out = value;
    } else if (name == "save-dir") {
      o.save_dir = value;
    } else if (name == "label") {
      o.label = value;
    } else {
      return Error::InvalidArgument("unknown option --" + std::string(name));
    }
  }
  if (o.port == 0) return Bad("port", "is required");
  if (!IsLoopbackAddress(o.host)) {
    return Bad("host",
               "must be a numeric loopback address (127.0.0.0/8 or ::1): load is never "
               "sent anywhere else");
  }
  if (o.certs_dir.empty()) return Bad("certs", "is required (a directory made by provgate_certgen)");
  if (o.ca_file.empty()) return Bad("cacert", "is required (verifies the server certificate)");
  if (o.rate > 0) {
    if (o.conn != ConnMode::kPerRequest) {
      return Bad("rate",
                 "open loop needs --conn per-request: a request's scheduled start must "
                 "not wait for another request's connection");
    }
    if (!concurrency_set) o.concurrency = 1024;
  }
  if (o.sequence == Sequence::kWrongDevice && o.devices == 1) {
    return Bad("wrong-device", "needs at least two devices");
  }
  if (o.count == 0) o.count = kMaxCount;
  return o;
}

std::string LoadgenUsage() {
  return R"(provgate_loadgen: simulated phones fetching their configs over mutual TLS (loopback only)

  --host ADDR            numeric loopback address (default 127.0.0.1)
  --port N               server port (required)
  --sni NAME             TLS server name, also checked against the certificate (default localhost)
  --cacert FILE          CA of the server certificate (required)
  --certs DIR            device certificates made by provgate_certgen (required)
  --devices N            use the first N devices (default all)
  --conn MODE            per-request | per-device | keep-alive (default per-request)
  --tls 1.2|1.3          protocol version (default 1.3)
  --concurrency C        closed loop: C connections; open loop: in-flight cap (default 16 / 1024)
  --rate R               open loop: R requests/s offered, latency from scheduled start
  --duration S           stop starting requests after S seconds (default 10)
  --count N              stop after N requests (default 100000000)
  --timeout-ms T         per request (default 5000)
  --requests-per-conn K  keep-alive: requests before the device reconnects (default 100)
  --common-file NAME     Yealink common file (default y000000000096.cfg)
  --verify-status        200 bodies must start with "#!version"
  --wrong-device         ask for another device's file and expect 404 (pre-check)
  --server-pid PID       measure this process's CPU over the run (repeatable)
  --save-dir DIR         store every 200 body under its file name
  --json FILE            write the JSON report here too
  --label TEXT           copied into the report
)";
}

}  // namespace provgate::bench
