// provgate_tls_harness: times the server side of full mutual-TLS handshakes run
// entirely in memory (a BIO pair, one thread, no sockets), to separate what OpenSSL costs
// from what provgate's own TLS settings and identity path add. Modes, interleaved batch by
// batch so drift hits them alike:
//   bare                  a plain OpenSSL server context set up like nginx with
//                         `ssl_verify_client on`
//   provgate              tls::MakeServerContext, then tls::ExtractIdentity on the peer
//                         certificate and the check that its MAC is the device's
//   provgate-no-identity  tls::MakeServerContext only
// Only server-side calls are charged (SSL_new, SSL_set_bio, SSL_do_handshake,
// SSL_get_error, the identity path, SSL_shutdown, SSL_free), by default on this thread's CPU clock; the
// client's work is excluded. Each handshake presents the next device certificate (cycling
// when there are fewer devices than handshakes); the client keeps no session, so every
// handshake is a full one. Exit status 0 only when every handshake and identity check passed.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <time.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/device_certs.hpp"
#include "bench/ossl.hpp"
#include "core/mac_address.hpp"
#include "tls/cert_identity.hpp"
#include "tls/server_context.hpp"

namespace provgate::bench {
namespace {

namespace fs = std::filesystem;

enum class Mode { kBare, kProvgate, kProvgateNoIdentity };

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kBare: return "bare";
    case Mode::kProvgate: return "provgate";
    case Mode::kProvgateNoIdentity: return "provgate-no-identity";
  }
  return "unknown";
}

struct Options {
  std::string dir;  // installation made by `provgate demo init`
  std::string ca_cert, server_cert, server_key, certs, tls = "1.3", clock = "cpu", json_out;
  std::vector<std::string> modes = {"bare", "provgate", "provgate-no-identity"};
  std::uint64_t devices = 0;  // 0: every device of the set
  std::uint64_t handshakes = 2000;
  std::uint64_t batches = 10;
  std::uint64_t warmup = 50;
  int tickets = -1;  // what-if: TLS 1.3 tickets every server context sends; -1 leaves them be
};

// Server time charged so far, and how many timed sections it came from.
struct ServerTime {
  std::int64_t ns = 0;
  std::int64_t sections = 0;
};

// Adds the time between its construction and destruction to `total`: wraps server-side calls.
class Charge {
 public:
  Charge(clockid_t clock, ServerTime& total) : clock_(clock), total_(total), start_(Now(clock)) {}
  ~Charge() {
    total_.ns += Now(clock_) - start_;
    ++total_.sections;
  }
  Charge(const Charge&) = delete;
  Charge& operator=(const Charge&) = delete;

  static std::int64_t Now(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }

 private:
  clockid_t clock_;
  ServerTime& total_;
  std::int64_t start_;
};

// What the first measured handshake of a mode negotiated, and state that explains costs.
struct Negotiated {
  std::string protocol, cipher, group;
  std::uint64_t server_bytes = 0;  // written by the server in one handshake (tickets included)
};

struct ModeRun {
  Mode mode;
  SSL_CTX* ctx = nullptr;
  bool identity = false;
  std::vector<double> batch_us;       // server µs per handshake, one value per batch
  double sections_per_handshake = 0;  // timed sections, each corrected for the clock's cost
  std::optional<Negotiated> negotiated;
};

std::string Drain() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text;
}

Result<SslCtxPtr> MakeBareContext(const Options& o) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Error::Internal("SSL_CTX_new: " + DrainErrors());
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    return Error::Internal("cannot set the minimum TLS version: " + DrainErrors());
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), o.server_cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), o.server_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Error::InvalidArgument("cannot use " + o.server_cert + " / " + o.server_key + ": " + DrainErrors());
  }
  // nginx's ssl_client_certificate: the CA verifies clients and its name goes into the
  // CertificateRequest.
  if (SSL_CTX_load_verify_locations(ctx.get(), o.ca_cert.c_str(), nullptr) != 1) {
    return Error::InvalidArgument("cannot load " + o.ca_cert + ": " + DrainErrors());
  }
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.ca_cert.c_str());
  if (names == nullptr) return Error::InvalidArgument("no CA name in " + o.ca_cert);
  SSL_CTX_set_client_CA_list(ctx.get(), names);  // takes ownership
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // nginx's ngx_ssl_create sets both modes on every context.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_NO_AUTO_CHAIN | SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

// The phone's side, as provgate_loadgen sets it up.
Result<SslCtxPtr> MakeClientContext(const Options& o) {
  return MakePhoneClientContext(o.ca_cert, o.tls == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION);
}

constexpr int kMaxRounds = 64;

// One full handshake for `device`; adds the server side's time to `server_ns`.
Status Handshake(ModeRun& run, SSL_CTX* client_ctx, const Device& device, const core::MacAddress& mac,
                 const std::vector<tls::MacRule>& rules, clockid_t clock, ServerTime& server_ns, bool record) {
  ERR_clear_error();
  SslPtr client(SSL_new(client_ctx));
  if (!client || SSL_use_certificate(client.get(), device.cert.get()) != 1 ||
      SSL_use_PrivateKey(client.get(), device.key.get()) != 1) {
    return Error::Internal("client set-up for " + device.mac + ": " + DrainErrors());
  }
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  if (BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) != 1) {
    return Error::Internal("BIO_new_bio_pair: " + DrainErrors());
  }
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_connect_state(client.get());

  SslPtr server;
  {
    Charge charge(clock, server_ns);
    server.reset(SSL_new(run.ctx));
    if (server) {
      SSL_set_bio(server.get(), server_bio, server_bio);
      SSL_set_accept_state(server.get());
    }
  }
  if (!server) {
    BIO_free(server_bio);
    return Error::Internal("server SSL_new: " + DrainErrors());
  }

  bool client_done = false;
  bool server_done = false;
  for (int round = 0; round < kMaxRounds && !(client_done && server_done); ++round) {
    if (!client_done) {
      ERR_clear_error();
      const int rc = SSL_do_handshake(client.get());
      if (rc == 1) {
        client_done = true;
      } else if (const int e = SSL_get_error(client.get(), rc); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        return Error::Unavailable(
            fmt::format("{}: handshake of {} failed on the client: {}", ModeName(run.mode), device.mac, Drain()));
      }
    }
    if (!server_done) {
      ERR_clear_error();
      int e = SSL_ERROR_NONE;
      {
        Charge charge(clock, server_ns);
        const int rc = SSL_do_handshake(server.get());
        if (rc != 1) e = SSL_get_error(server.get(), rc);
      }
      if (e == SSL_ERROR_NONE) {
        server_done = true;
      } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        return Error::Unavailable(
            fmt::format("{}: handshake of {} failed on the server: {}", ModeName(run.mode), device.mac, Drain()));
      }
    }
  }
  if (!client_done || !server_done) {
    return Error::Unavailable(fmt::format("{}: handshake of {} did not finish", ModeName(run.mode), device.mac));
  }

  // provgate's contexts send the TLS 1.3 ticket with the first response, not during the
  // handshake (tls::QueueSessionTicket): issue it here, charged like the handshake.
  if (run.mode != Mode::kBare) {
    Charge charge(clock, server_ns);
    tls::QueueSessionTicket(server.get());
    static_cast<void>(SSL_do_handshake(server.get()));
  }
  if (run.identity) {
    bool matches = false;
    std::string problem;
    {
      Charge charge(clock, server_ns);
      auto identity = tls::ExtractIdentity(SSL_get0_peer_certificate(server.get()), rules);
      if (identity) {
        matches = identity->mac == mac;
      } else {
        problem = identity.error().message;
      }
    }
    if (!matches) {
      return Error::PermissionDenied(fmt::format("{}: identity of {}: {}", ModeName(run.mode), device.mac,
                                                 problem.empty() ? "certificate MAC is not the device's" : problem));
    }
  }
  // Untimed, every mode: the client certificate really was required and verified.
  if (SSL_get0_peer_certificate(server.get()) == nullptr || SSL_get_verify_result(server.get()) != X509_V_OK) {
    return Error::PermissionDenied(
        fmt::format("{}: {} was not verified by the server", ModeName(run.mode), device.mac));
  }
  if (record && !run.negotiated) {
    Negotiated n;
    n.protocol = SSL_get_version(server.get());
    n.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(server.get()));
    const long group = SSL_ctrl(server.get(), SSL_CTRL_GET_NEGOTIATED_GROUP, 0, nullptr);
    const char* group_name = SSL_group_to_name(server.get(), static_cast<int>(group));
    n.group = group_name != nullptr ? group_name : fmt::format("#{}", group);
    n.server_bytes = BIO_number_written(SSL_get_wbio(server.get()));
    run.negotiated = std::move(n);
  }
  // A server closes with close_notify (both provgate and nginx call SSL_shutdown)
  // before freeing; without it OpenSSL drops the session from the context's cache.
  {
    Charge charge(clock, server_ns);
    ERR_clear_error();
    static_cast<void>(SSL_shutdown(server.get()));
    server.reset();
  }
  return Ok();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// What one empty Charge adds to its total: the clock's own cost inside a timed section.
// Subtracted per section, so a mode with more sections (the identity path) is not charged
// for the clock. The minimum of several rounds, as the clock cost has no upward noise to keep.
double TimerBiasNs(clockid_t clock) {
  constexpr int kRounds = 5;
  constexpr int kReps = 1000;
  double best = 0;
  for (int r = 0; r < kRounds; ++r) {
    ServerTime sink;
    for (int i = 0; i < kReps; ++i) {
      Charge charge(clock, sink);
    }
    const double per = static_cast<double>(sink.ns) / kReps;
    if (r == 0 || per < best) best = per;
  }
  return best;
}

// µs per ExtractIdentity + MAC check on already parsed device certificates, outside any
// handshake: the identity path's cost without the handshake's noise.
Result<double> IdentityAloneUs(const std::vector<Device>& devices, const std::vector<core::MacAddress>& macs,
                               const std::vector<tls::MacRule>& rules, clockid_t clock, double timer_ns) {
  constexpr std::size_t kCalls = 2000;
  ServerTime t;
  for (std::size_t i = 0; i < kCalls; ++i) {
    const std::size_t d = i % devices.size();
    bool matches = false;
    {
      Charge charge(clock, t);
      auto identity = tls::ExtractIdentity(devices[d].cert.get(), rules);
      matches = identity && identity->mac == macs[d];
    }
    if (!matches) return Error::PermissionDenied("identity of " + devices[d].mac + " does not match");
  }
  return (static_cast<double>(t.ns) - static_cast<double>(t.sections) * timer_ns) / 1000.0 /
         static_cast<double>(kCalls);
}

long CachedSessions(SSL_CTX* ctx) { return SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_NUMBER, 0, nullptr); }

const char* KeyTypeName(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: return "ecdsa";
    case EVP_PKEY_RSA: return "rsa";
    default: return "other";
  }
}

int Run(Options o) {
  if (!o.dir.empty()) {
    const fs::path tls_dir = fs::path(o.dir) / "tls";
    if (o.ca_cert.empty()) o.ca_cert = (tls_dir / "ca.crt").string();
    if (o.server_cert.empty()) o.server_cert = (tls_dir / "server.crt").string();
    if (o.server_key.empty()) o.server_key = (tls_dir / "server.key").string();
  }
  if (o.ca_cert.empty() || o.server_cert.empty() || o.server_key.empty()) {
    fmt::print(stderr, "provgate_tls_harness: give --dir or --ca-cert, --server-cert and --server-key\n");
    return 2;
  }
  if (o.batches == 0 || o.handshakes < o.batches) {
    fmt::print(stderr, "provgate_tls_harness: need --batches >= 1 and --handshakes >= --batches\n");
    return 2;
  }
  const clockid_t clock = o.clock == "wall" ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID;

  auto loaded = LoadDevices(o.certs, o.devices);
  if (!loaded) {
    fmt::print(stderr, "provgate_tls_harness: {}\n", loaded.error().message);
    return 1;
  }
  const std::vector<Device> devices = std::move(loaded).value();
  std::vector<core::MacAddress> macs;
  macs.reserve(devices.size());
  for (const auto& d : devices) {
    auto mac = core::MacAddress::Parse(d.mac);
    if (!mac) {
      fmt::print(stderr, "provgate_tls_harness: device MAC {}: {}\n", d.mac, mac.error().message);
      return 1;
    }
    macs.push_back(*mac);
  }

  auto client_ctx = MakeClientContext(o);
  auto bare_ctx = MakeBareContext(o);
  if (!client_ctx || !bare_ctx) {
    fmt::print(stderr, "provgate_tls_harness: {}\n", (!client_ctx ? client_ctx.error() : bare_ctx.error()).message);
    return 1;
  }
  tls::ServerTlsSettings settings;
  settings.cert_file = o.server_cert;
  settings.key_file = o.server_key;
  settings.trust_anchors = {o.ca_cert};
  settings.client_cert = tls::ClientCertMode::kRequired;
  // One context per provgate mode: state one mode leaves in its context (session cache,
  // anything MakeServerContext keeps per context) must not speed up the other.
  std::vector<std::shared_ptr<boost::asio::ssl::context>> provgate_ctx;
  for (int i = 0; i < 2; ++i) {
    auto made = tls::MakeServerContext(settings);
    if (!made) {
      fmt::print(stderr, "provgate_tls_harness: {}\n", made.error().message);
      return 1;
    }
    provgate_ctx.push_back(std::move(made).value());
  }
  const std::vector<tls::MacRule> rules = tls::DefaultMacRules();
  if (o.tickets >= 0) {
    for (SSL_CTX* ctx : {bare_ctx->get(), provgate_ctx[0]->native_handle(), provgate_ctx[1]->native_handle()}) {
      if (SSL_CTX_set_num_tickets(ctx, static_cast<std::size_t>(o.tickets)) != 1) {
        fmt::print(stderr, "provgate_tls_harness: cannot set the number of tickets\n");
        return 1;
      }
    }
  }

  std::vector<ModeRun> runs;
  for (const Mode mode : {Mode::kBare, Mode::kProvgate, Mode::kProvgateNoIdentity}) {
    if (std::find(o.modes.begin(), o.modes.end(), ModeName(mode)) == o.modes.end()) continue;
    SSL_CTX* ctx = mode == Mode::kBare       ? bare_ctx->get()
                   : mode == Mode::kProvgate ? provgate_ctx[0]->native_handle()
                                             : provgate_ctx[1]->native_handle();
    runs.push_back(ModeRun{.mode = mode, .ctx = ctx, .identity = mode == Mode::kProvgate});
  }
  if (runs.empty()) {
    fmt::print(stderr, "provgate_tls_harness: no mode to run\n");
    return 2;
  }

  // Every mode replays the same device sequence.
  std::map<Mode, std::uint64_t> next_device;
  auto run_many = [&](ModeRun& run, std::uint64_t count, bool record) -> Result<ServerTime> {
    ServerTime ns;
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::uint64_t d = next_device[run.mode]++ % devices.size();
      PG_TRY_STATUS(Handshake(run, client_ctx->get(), devices[d], macs[d], rules, clock, ns, record));
    }
    return ns;
  };

  for (auto& run : runs) {
    if (auto warm = run_many(run, o.warmup, false); !warm) {
      fmt::print(stderr, "provgate_tls_harness: {}\n", warm.error().message);
      return 1;
    }
  }
  const double timer_ns = TimerBiasNs(clock);
  for (std::uint64_t b = 0; b < o.batches; ++b) {
    const std::uint64_t count = o.handshakes / o.batches + (b < o.handshakes % o.batches ? 1 : 0);
    // Rotate the order between batches so no mode always runs first after another.
    for (std::size_t k = 0; k < runs.size(); ++k) {
      ModeRun& run = runs[(k + b) % runs.size()];
      auto ns = run_many(run, count, true);
      if (!ns) {
        fmt::print(stderr, "provgate_tls_harness: {}\n", ns.error().message);
        return 1;
      }
      const double net_ns = static_cast<double>(ns->ns) - static_cast<double>(ns->sections) * timer_ns;
      run.batch_us.push_back(net_ns / 1000.0 / static_cast<double>(count));
      run.sections_per_handshake = static_cast<double>(ns->sections) / static_cast<double>(count);
    }
  }

  auto identity_alone = IdentityAloneUs(devices, macs, rules, clock, timer_ns);
  if (!identity_alone) {
    fmt::print(stderr, "provgate_tls_harness: {}\n", identity_alone.error().message);
    return 1;
  }
  const char* key_type = KeyTypeName(devices.front().key.get());
  nlohmann::json report = {
      {"tool", "provgate_tls_harness"},
      {"tls", o.tls},
      {"key_type", key_type},
      {"devices", devices.size()},
      {"handshakes_per_mode", o.handshakes},
      {"batches", o.batches},
      {"clock", o.clock == "wall" ? "monotonic" : "thread-cpu"},
      {"timer_bias_ns", timer_ns},
      {"openssl", OpenSSL_version(OPENSSL_VERSION)},
      {"identity_alone_us", *identity_alone},
      {"tickets_override", o.tickets},
  };
  fmt::print(
      "TLS {}, {} device certificates ({}), {} handshakes per mode in {} batches, "
      "server side only, {} clock ({:.0f} ns per timed section, subtracted){}\n",
      o.tls, devices.size(), key_type, o.handshakes, o.batches, o.clock == "wall" ? "monotonic" : "thread CPU",
      timer_ns, o.tickets >= 0 ? fmt::format(", what-if: {} TLS 1.3 tickets", o.tickets) : "");
  const std::uint64_t per_mode = o.warmup + o.handshakes;
  const std::uint64_t repeats = per_mode > devices.size() ? per_mode - devices.size() : 0;
  report["repeated_certificate_handshakes"] = repeats;
  if (repeats > 0) {
    fmt::print(
        "note: {} of each mode's {} handshakes (warm-up included) present a certificate "
        "that mode has already seen; give more devices for all-new certificates\n",
        repeats, per_mode);
  }
  fmt::print("{:<22} {:>10} {:>8} {:>13} {:>9}  {}\n", "mode", "median µs", "min µs", "server bytes", "sessions",
             "negotiated");
  std::map<Mode, double> medians;
  for (const auto& run : runs) {
    const double median = Median(run.batch_us);
    const double min = *std::min_element(run.batch_us.begin(), run.batch_us.end());
    medians[run.mode] = median;
    const Negotiated n = run.negotiated.value_or(Negotiated{});
    const long sessions = CachedSessions(run.ctx);
    fmt::print("{:<22} {:>10.1f} {:>8.1f} {:>13} {:>9}  {} {} {}\n", ModeName(run.mode), median, min, n.server_bytes,
               sessions, n.protocol, n.cipher, n.group);
    report["modes"][ModeName(run.mode)] = {
        {"median_us", median},
        {"min_us", min},
        {"batch_us", run.batch_us},
        {"protocol", n.protocol},
        {"cipher", n.cipher},
        {"group", n.group},
        {"server_bytes", n.server_bytes},
        {"cached_sessions_after", sessions},
        {"timed_sections_per_handshake", run.sections_per_handshake},
    };
  }
  auto diff = [&](Mode a, Mode b, const char* key, const char* text) {
    if (!medians.contains(a) || !medians.contains(b)) return;
    const double d = medians[a] - medians[b];
    report["diff_us"][key] = d;
    fmt::print("{:<44} {:>+8.1f} µs\n", text, d);
  };
  diff(Mode::kProvgate, Mode::kBare, "provgate_minus_bare", "provgate - bare");
  diff(Mode::kProvgateNoIdentity, Mode::kBare, "context", "  context settings (no-identity - bare)");
  diff(Mode::kProvgate, Mode::kProvgateNoIdentity, "identity", "  identity path (provgate - no-identity)");
  fmt::print("{:<44} {:>8.1f} µs\n", "identity path alone, outside a handshake", *identity_alone);
  fmt::print("{}\n", report.dump());
  if (!o.json_out.empty()) {
    std::ofstream f(o.json_out);
    f << report.dump() << "\n";
    if (!f) {
      fmt::print(stderr, "provgate_tls_harness: cannot write {}\n", o.json_out);
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace provgate::bench

int main(int argc, char** argv) {
  provgate::bench::Options o;
  CLI::App app(
      "provgate_tls_harness: server CPU per full mutual-TLS handshake, in memory, for bare "
      "OpenSSL (nginx-like) and provgate's TLS context with and without its identity path");
  app.add_option("--dir", o.dir,
                 "Installation made by `provgate demo init`: defaults for the three files below "
                 "(tls/ca.crt, tls/server.crt, tls/server.key)");
  app.add_option("--ca-cert", o.ca_cert, "Device CA (PEM): verifies clients, and the server for the client");
  app.add_option("--server-cert", o.server_cert, "Server certificate chain (PEM)");
  app.add_option("--server-key", o.server_key, "Server key (PEM)");
  app.add_option("--certs", o.certs, "Device set written by provgate_certgen")->required();
  app.add_option("--devices", o.devices, "Use the first N devices (0: all)")->capture_default_str();
  app.add_option("--handshakes", o.handshakes, "Measured handshakes per mode")->capture_default_str();
  app.add_option("--batches", o.batches, "Batches per mode; the report gives their median and min")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "Unmeasured handshakes per mode first")->capture_default_str();
  app.add_option("--tls", o.tls, "Protocol version the client pins")
      ->check(CLI::IsMember({"1.2", "1.3"}))
      ->capture_default_str();
  app.add_option("--modes", o.modes, "Modes to run, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember({"bare", "provgate", "provgate-no-identity"}))
      ->capture_default_str();
  app.add_option("--clock", o.clock, "cpu: this thread's CPU time (CLOCK_THREAD_CPUTIME_ID); wall: CLOCK_MONOTONIC")
      ->check(CLI::IsMember({"cpu", "wall"}))
      ->capture_default_str();
  app.add_option("--tickets", o.tickets,
                 "What-if: TLS 1.3 session tickets every server context sends (SSL_CTX_set_num_tickets); "
                 "default: as configured (OpenSSL sends 2)")
      ->check(CLI::Range(0, 16));
  app.add_option("--json", o.json_out, "Also write the JSON report to this file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return provgate::bench::Run(std::move(o));
}
