// Command line of the load generator, parsed and checked once (pure: no I/O), so every
// refusal is unit-tested and the event loop never sees an inconsistent configuration.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::bench {

enum class ConnMode {
  kPerRequest,  // a full mTLS handshake for every request (the boot storm worst case)
  kPerDevice,   // one connection per device's request sequence
  kKeepAlive,   // a device's connection carries many sequences
};
enum class TlsVersion { kTls12, kTls13 };
enum class Sequence {
  kYealink,      // GET /y0000000000xx.cfg (model's common file), then GET /<mac>.cfg
  kWrongDevice,  // GET /<another device's mac>.cfg, expecting 404 (correctness pre-check)
};

struct LoadgenOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string sni = "localhost";
  std::string ca_file;        // verifies the server certificate
  std::string certs_dir;      // written by provgate_certgen
  std::uint64_t devices = 0;  // 0: every device in certs_dir
  ConnMode conn = ConnMode::kPerRequest;
  TlsVersion tls = TlsVersion::kTls13;
  int concurrency = 16;  // closed loop: connections; open loop: cap on in-flight requests
  double rate = 0;       // requests/s offered; 0 = closed loop
  double duration_s = 10;
  std::uint64_t count = 0;      // 0: kMaxCount
  int timeout_ms = 5000;        // per request, from its start (open loop: scheduled start)
  int requests_per_conn = 100;  // keep-alive: then the device reconnects
  Sequence sequence = Sequence::kYealink;
  int expect_status = 200;
  bool verify_body = false;  // 200 bodies must start with "#!version"
  std::string common_file = "y000000000096.cfg";
  std::vector<int> server_pids;  // CPU of these processes is measured over the run
  std::string json_out;          // also write the JSON report here
  std::string save_dir;          // store each 200 body under its file name (pre-rendering)
  std::string label;
};

inline constexpr std::uint64_t kMaxCount = 100'000'000;
inline constexpr double kMaxDurationS = 3600;
inline constexpr int kMaxConcurrency = 20'000;
inline constexpr double kMaxRate = 200'000;

// args excludes the program name. Errors say which option is wrong and why.
Result<LoadgenOptions> ParseLoadgenArgs(const std::vector<std::string>& args);

// True only for numeric loopback addresses: 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
// Host names are refused so no resolver can send the load anywhere else.
bool IsLoopbackAddress(std::string_view host);

std::string LoadgenUsage();

const char* ConnModeName(ConnMode m);
const char* TlsVersionName(TlsVersion v);

}  // namespace provgate::bench
