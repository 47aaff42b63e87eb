// provgate_certgen: device certificates for the boot-storm benchmark, issued in-process by
// provgate's CertAuthority on every core (the openssl CLI manages ~28/s; this does thousands).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/device_certs.hpp"
#include "tls/cert_factory.hpp"

namespace provgate::bench {
namespace {

namespace fs = std::filesystem;

struct Options {
  std::string ca_cert, ca_key, out, oui = "001565", key_type = "ecdsa";
  std::uint64_t count = 1000, first = 0;
  unsigned threads = 0;
  int valid_days = 730;
  bool force = false;
};

// Writes via a temporary file and rename, so an interrupted run never leaves a bundle that
// looks complete. Bundles hold private keys: 0600.
Status WriteFileAtomically(const fs::path& path, const std::string& text, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error::Unavailable("cannot create " + tmp.string());
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Error::Unavailable("cannot write " + tmp.string());
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) return Error::Unavailable("cannot write " + tmp.string());
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Error::Unavailable("cannot rename " + tmp.string() + ": " + ec.message());
  return Ok();
}

Result<std::string> MakeBundle(const tls::CertAuthority& ca, const Options& o, tls::KeyType type, std::int64_t now,
                               std::uint64_t begin, std::uint64_t end) {
  std::string pem;
  for (std::uint64_t i = begin; i < end; ++i) {
    PG_TRY(auto mac, DeviceMac(o.oui, o.first, i));
    tls::CertSpec spec;
    spec.subject = {{"CN", mac}, {"O", "provgate bench device"}};
    spec.key_type = type;
    spec.not_before = now - 3600;
    spec.not_after = now + static_cast<std::int64_t>(o.valid_days) * 86400;
    PG_TRY(auto pair, ca.Issue(spec));
    pem += pair.cert_pem;
    pem += pair.key_pem;
  }
  return pem;
}

int Run(const Options& o) {
  const fs::path out(o.out);
  if (fs::exists(out / "manifest.txt") && !o.force) {
    fmt::print(stderr, "{} already holds a device set; pass --force to replace it\n", o.out);
    return 1;
  }
  if (o.count == 0 || o.count > 0x1000000) {
    fmt::print(stderr, "--count must be 1-16777216\n");
    return 2;
  }
  if (auto last = DeviceMac(o.oui, o.first, o.count - 1); !last) {
    fmt::print(stderr, "{}\n", last.error().message);
    return 2;
  }
  const tls::KeyType type = o.key_type == "rsa" ? tls::KeyType::kRsa2048 : tls::KeyType::kEcdsaP256;
  auto ca = tls::CertAuthority::Load(o.ca_cert, o.ca_key);
  if (!ca) {
    fmt::print(stderr, "cannot load CA: {}\n", ca.error().message);
    return 1;
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) {
    fmt::print(stderr, "cannot create {}: {}\n", o.out, ec.message());
    return 1;
  }
  // Stale bundles of a previous, larger set must not survive a --force.
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    if (entry.path().filename().string().starts_with("bundle-")) fs::remove(entry.path(), ec);
  }
  fs::remove(out / "manifest.txt", ec);

  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::uint64_t bundles = (o.count + kDevicesPerBundle - 1) / kDevicesPerBundle;
  const unsigned threads = std::max(1U, o.threads != 0 ? o.threads : std::thread::hardware_concurrency());
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> issued{0};
  std::mutex error_mu;
  std::string first_error;
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (std::uint64_t b = next++; b < bundles; b = next++) {
          const std::uint64_t begin = b * kDevicesPerBundle;
          const std::uint64_t end = std::min(o.count, begin + kDevicesPerBundle);
          auto pem = MakeBundle(*ca, o, type, now, begin, end);
          Status st = pem ? WriteFileAtomically(out / BundleName(b), *pem, 0600) : Status(pem.error());
          if (!st) {
            std::lock_guard lock(error_mu);
            if (first_error.empty()) first_error = st.error().message;
            next = bundles;  // the others stop after their current bundle
            return;
          }
          issued += end - begin;
        }
      });
    }
  }
  if (!first_error.empty()) {
    fmt::print(stderr, "certificate generation failed: {}\n", first_error);
    return 1;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::string manifest, index;
  for (std::uint64_t i = 0; i < o.count; ++i) manifest += *DeviceMac(o.oui, o.first, i) + "\n";
  for (std::uint64_t b = 0; b < bundles; ++b) {
    const std::uint64_t begin = b * kDevicesPerBundle;
    index += fmt::format("{}\t{}\t{}\t{}\n", BundleName(b), begin, std::min(o.count, begin + kDevicesPerBundle) - begin,
                         o.key_type);
  }
  // The manifest is written last: its presence marks a complete set.
  if (auto st = WriteFileAtomically(out / "index.tsv", index, 0644); !st) {
    fmt::print(stderr, "{}\n", st.error().message);
    return 1;
  }
  if (auto st = WriteFileAtomically(out / "manifest.txt", manifest, 0644); !st) {
    fmt::print(stderr, "{}\n", st.error().message);
    return 1;
  }
  fmt::print("{} {} device certificates in {:.1f} s on {} threads: {:.0f} certs/s -> {}\n", issued.load(),
             o.key_type == "rsa" ? "RSA-2048" : "ECDSA P-256", secs, threads, static_cast<double>(issued.load()) / secs,
             o.out);
  return 0;
}

}  // namespace
}  // namespace provgate::bench

int main(int argc, char** argv) {
  provgate::bench::Options o;
  CLI::App app("provgate_certgen: device client certificates for the benchmark, signed by a CA");
  app.add_option("--ca-cert", o.ca_cert, "CA certificate (PEM)")->required();
  app.add_option("--ca-key", o.ca_key, "CA private key (PEM)")->required();
  app.add_option("--out", o.out, "Output directory")->required();
  app.add_option("--count", o.count, "Number of devices")->capture_default_str();
  app.add_option("--key-type", o.key_type, "ecdsa (P-256) or rsa (2048)")
      ->check(CLI::IsMember({"ecdsa", "rsa"}))
      ->capture_default_str();
  app.add_option("--oui", o.oui, "First 3 bytes of every MAC, 6 lowercase hex digits")->capture_default_str();
  app.add_option("--first", o.first, "Number of the first device below the OUI")->capture_default_str();
  app.add_option("--threads", o.threads, "Worker threads (default: one per core)");
  app.add_option("--valid-days", o.valid_days, "Certificate lifetime")->check(CLI::Range(1, 3650));
  app.add_flag("--force", o.force, "Replace an existing device set");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return provgate::bench::Run(o);
}
