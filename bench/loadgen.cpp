// provgate_loadgen: simulated phones fetching their configs over mutual TLS. One thread,
// one epoll loop, non-blocking OpenSSL, so the generator's own cost per request stays low
// and is reported (getrusage) next to the server's. Loopback targets only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "bench/device_certs.hpp"
#include "bench/histogram.hpp"
#include "bench/http_response.hpp"
#include "bench/options.hpp"
#include "bench/schedule.hpp"

namespace provgate::bench {
namespace {

std::int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// utime + stime of the processes, in seconds, from /proc/PID/stat (fields 14 and 15).
std::optional<double> ProcessCpuSeconds(const std::vector<int>& pids) {
  if (pids.empty()) return std::nullopt;
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double total = 0;
  for (int pid : pids) {
    std::ifstream f(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(f, line)) return std::nullopt;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    total += static_cast<double>(utime + stime) / ticks;
  }
  return total;
}

enum class ErrorKind { kConnect, kHandshake, kStatus, kTimeout, kIo, kProtocol, kBody, kCount };
constexpr const char* kErrorNames[] = {"connect", "handshake", "status", "timeout", "io", "protocol", "body"};

class LoadGen {
 public:
  LoadGen(const LoadgenOptions& o, std::vector<Device> devices, SSL_CTX* ctx);

  Status Run();
  nlohmann::json Report() const;
  std::string HumanLine() const;

 private:
  enum class Phase { kFree, kConnecting, kHandshake, kWriting, kReading };
  struct Conn {
    int fd = -1;
    SslPtr ssl;
    Phase phase = Phase::kFree;
    std::uint32_t events = 0;
    std::uint64_t device = 0;
    std::size_t step = 0;  // index into the device's request sequence
    int requests_on_conn = 0;
    bool responded = false;      // a response arrived on this connection
    std::int64_t origin_ns = 0;  // latency is measured from here
    std::int64_t deadline_ns = 0;
    std::string out;
    std::size_t out_off = 0;
    std::string file;
    ResponseParser parser;
  };

  const std::vector<std::string>& Sequence(std::uint64_t device) const { return sequences_[device]; }
  void StartConnection(Conn& c, std::uint64_t device, std::size_t step, std::int64_t origin);
  void PrepareRequest(Conn& c, std::int64_t origin);
  void Advance(Conn& c);
  enum class Close { kClean, kAbort };
  void Finish(Conn& c, Close how);  // closes; the slot becomes free
  void Fail(Conn& c, ErrorKind kind);
  void OnResponse(Conn& c);
  void Want(Conn& c, std::uint32_t events);
  void FillSlots(std::int64_t now);
  void CheckTimeouts(std::int64_t now);

  const LoadgenOptions& o_;
  std::vector<Device> devices_;
  std::vector<std::vector<std::string>> sequences_;  // file names each device asks for
  SSL_CTX* ctx_;
  OpenLoopSchedule schedule_;
  int epfd_ = -1;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  std::vector<Conn> conns_;
  std::vector<std::size_t> free_;
  std::size_t active_ = 0;

  std::uint64_t unit_cost_ = 1;  // requests one new closed-loop unit reserves
  std::uint64_t started_ = 0;    // requests begun (closed loop) / scheduled (open loop)
  std::uint64_t next_unit_ = 0;  // closed loop: next device sequence or request
  // answered_: requests the server responded to, whatever the status; the divisor of CPU
  // per request (a timed-out request did not cost the server a whole request).
  std::uint64_t answered_ = 0;
  std::uint64_t completed_ = 0, ok_ = 0, handshakes_ = 0, late_starts_ = 0;
  std::uint64_t errors_[static_cast<int>(ErrorKind::kCount)] = {};
  std::map<int, std::uint64_t> statuses_;
  std::string first_error_;
  LatencyHistogram latency_;
  std::int64_t start_ns_ = 0, end_ns_ = 0;
  double cpu_s_ = 0;
  std::optional<double> server_cpu_s_;
};

LoadGen::LoadGen(const LoadgenOptions& o, std::vector<Device> devices, SSL_CTX* ctx)
    : o_(o), devices_(std::move(devices)), ctx_(ctx), schedule_(o.rate > 0 ? o.rate : 1, o.count) {
  if (o_.conn == ConnMode::kPerDevice && o_.rate == 0) {
    unit_cost_ = o_.sequence == Sequence::kWrongDevice ? 1 : 2;
  }
  sequences_.reserve(devices_.size());
  for (std::size_t d = 0; d < devices_.size(); ++d) {
    if (o_.sequence == Sequence::kWrongDevice) {
      sequences_.push_back({devices_[(d + 1) % devices_.size()].mac + ".cfg"});
    } else {
      sequences_.push_back({o_.common_file, devices_[d].mac + ".cfg"});
    }
  }
}

void LoadGen::Want(Conn& c, std::uint32_t events) {
  if (c.events == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
  epoll_ctl(epfd_, c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
  c.events = events;
}

void LoadGen::StartConnection(Conn& c, std::uint64_t device, std::size_t step, std::int64_t origin) {
  c.device = device;
  c.step = step;
  c.requests_on_conn = 0;
  c.responded = false;
  c.events = 0;
  c.origin_ns = origin;
  c.deadline_ns = origin + static_cast<std::int64_t>(o_.timeout_ms) * 1'000'000;
  ++active_;
  c.fd = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return Fail(c, ErrorKind::kConnect);
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c.ssl.reset(SSL_new(ctx_));
  const Device& d = devices_[device];
  if (!c.ssl || SSL_set_fd(c.ssl.get(), c.fd) != 1 || SSL_use_certificate(c.ssl.get(), d.cert.get()) != 1 ||
      SSL_use_PrivateKey(c.ssl.get(), d.key.get()) != 1 || SSL_set1_host(c.ssl.get(), o_.sni.c_str()) != 1 ||
      SSL_ctrl(c.ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(o_.sni.c_str())) != 1) {
    if (first_error_.empty()) first_error_ = "TLS set-up: " + DrainErrors();
    return Fail(c, ErrorKind::kHandshake);
  }
  PrepareRequest(c, origin);
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) == 0) {
    c.phase = Phase::kHandshake;
    return Advance(c);
  }
  if (errno != EINPROGRESS) {
    if (first_error_.empty()) first_error_ = std::string("connect: ") + std::strerror(errno);
    return Fail(c, ErrorKind::kConnect);
  }
  c.phase = Phase::kConnecting;
  Want(c, EPOLLOUT);
}

void LoadGen::PrepareRequest(Conn& c, std::int64_t origin) {
  const auto& seq = Sequence(c.device);
  c.file = seq[c.step];
  const bool last_on_conn = o_.conn == ConnMode::kPerRequest ||
                            (o_.conn == ConnMode::kPerDevice && c.step + 1 == seq.size()) ||
                            (o_.conn == ConnMode::kKeepAlive && c.requests_on_conn + 1 >= o_.requests_per_conn);
  const std::string& mac = devices_[c.device].mac;
  // A Yealink T54W's User-Agent ends with the MAC in colon form.
  std::string colons;
  for (std::size_t i = 0; i < mac.size(); i += 2) {
    if (i != 0) colons += ':';
    colons += mac.substr(i, 2);
  }
  c.out = fmt::format(
      "GET /{} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Yealink SIP-T54W 96.86.0.100 {}\r\n"
      "Accept: */*\r\nConnection: {}\r\n\r\n",
      c.file, o_.sni, colons, last_on_conn ? "close" : "keep-alive");
  c.out_off = 0;
  c.parser.Reset();
  c.origin_ns = origin;
  c.deadline_ns = origin + static_cast<std::int64_t>(o_.timeout_ms) * 1'000'000;
}

void LoadGen::Finish(Conn& c, Close how) {
  // A phone done with its files sends close_notify and leaves without waiting for the
  // server's: one write, no round trip.
  if (how == Close::kClean) SSL_shutdown(c.ssl.get());
  c.ssl.reset();
  ERR_clear_error();
  if (c.fd >= 0) ::close(c.fd);  // also removes it from the epoll set
  c.fd = -1;
  c.events = 0;
  c.phase = Phase::kFree;
  --active_;
  free_.push_back(static_cast<std::size_t>(&c - conns_.data()));
}

void LoadGen::Fail(Conn& c, ErrorKind kind) {
  ++errors_[static_cast<int>(kind)];
  ++completed_;
  ERR_clear_error();
  Finish(c, Close::kAbort);
}

void LoadGen::OnResponse(Conn& c) {
  const std::int64_t now = NowNs();
  c.responded = true;
  ++c.requests_on_conn;
  ++statuses_[c.parser.status()];
  ++answered_;
  if (c.parser.status() != o_.expect_status) {
    if (first_error_.empty()) {
      first_error_ = fmt::format("GET /{} as {}: status {}", c.file, devices_[c.device].mac, c.parser.status());
    }
    return Fail(c, ErrorKind::kStatus);
  }
  if (c.parser.status() == 200 && o_.verify_body && !c.parser.body().starts_with("#!version")) {
    if (first_error_.empty()) first_error_ = "GET /" + c.file + ": body does not start with #!version";
    return Fail(c, ErrorKind::kBody);
  }
  if (c.parser.status() == 200 && !o_.save_dir.empty()) {
    std::ofstream f(std::filesystem::path(o_.save_dir) / c.file, std::ios::binary | std::ios::trunc);
    f << c.parser.body();
  }
  ++ok_;
  ++completed_;
  latency_.Record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - c.origin_ns)) / 1000);

  // Continue on this connection when the mode and the server allow it and there is time.
  const auto& seq = Sequence(c.device);
  const bool stopping = now >= end_ns_ || (o_.conn != ConnMode::kPerDevice && started_ >= o_.count);
  const bool more_in_sequence = c.step + 1 < seq.size();
  bool reuse = c.parser.keep_alive() && !stopping;
  if (o_.conn == ConnMode::kPerRequest) reuse = false;
  if (o_.conn == ConnMode::kPerDevice && !more_in_sequence) reuse = false;
  if (o_.conn == ConnMode::kKeepAlive && c.requests_on_conn >= o_.requests_per_conn) reuse = false;
  if (!reuse) return Finish(c, Close::kClean);
  if (more_in_sequence) {
    ++c.step;
  } else {
    c.step = 0;  // keep-alive: the phone's next provisioning check, same connection
  }
  if (o_.conn != ConnMode::kPerDevice) ++started_;  // per-device reserved it at the start
  PrepareRequest(c, now);
  c.phase = Phase::kWriting;
  Advance(c);
}

void LoadGen::Advance(Conn& c) {
  char buf[16384];
  for (;;) {
    switch (c.phase) {
      case Phase::kFree: return;
      case Phase::kConnecting: {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          if (first_error_.empty()) first_error_ = std::string("connect: ") + std::strerror(err);
          return Fail(c, ErrorKind::kConnect);
        }
        c.phase = Phase::kHandshake;
        break;
      }
      case Phase::kHandshake: {
        const int r = SSL_connect(c.ssl.get());
        if (r == 1) {
          ++handshakes_;
          c.phase = Phase::kWriting;
          break;
        }
        const int e = SSL_get_error(c.ssl.get(), r);
        if (e == SSL_ERROR_WANT_READ) return Want(c, EPOLLIN);
        if (e == SSL_ERROR_WANT_WRITE) return Want(c, EPOLLOUT);
        if (first_error_.empty()) first_error_ = "handshake: " + DrainErrors();
        return Fail(c, ErrorKind::kHandshake);
      }
      case Phase::kWriting: {
        std::size_t n = 0;
        const int r = SSL_write_ex(c.ssl.get(), c.out.data() + c.out_off, c.out.size() - c.out_off, &n);
        if (r == 1) {
          c.out_off += n;
          if (c.out_off == c.out.size()) c.phase = Phase::kReading;
          break;
        }
        const int e = SSL_get_error(c.ssl.get(), r);
        if (e == SSL_ERROR_WANT_READ) return Want(c, EPOLLIN);
        if (e == SSL_ERROR_WANT_WRITE) return Want(c, EPOLLOUT);
        if (first_error_.empty()) first_error_ = "write: " + DrainErrors();
        return Fail(c, c.responded ? ErrorKind::kIo : ErrorKind::kHandshake);
      }
      case Phase::kReading: {
        std::size_t n = 0;
        const int r = SSL_read_ex(c.ssl.get(), buf, sizeof buf, &n);
        ResponseParser::State st;
        if (r == 1) {
          st = c.parser.Feed(std::string_view(buf, n));
        } else {
          const int e = SSL_get_error(c.ssl.get(), r);
          if (e == SSL_ERROR_WANT_READ) return Want(c, EPOLLIN);
          if (e == SSL_ERROR_WANT_WRITE) return Want(c, EPOLLOUT);
          if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
            st = c.parser.FeedEof();
          } else {
            // With TLS 1.3 the client finishes its handshake before the server has checked
            // the client certificate: a refusal arrives as an alert on the first read.
            if (first_error_.empty()) first_error_ = "read: " + DrainErrors();
            return Fail(c, c.responded ? ErrorKind::kIo : ErrorKind::kHandshake);
          }
        }
        if (st == ResponseParser::State::kError) {
          if (first_error_.empty()) first_error_ = "response to /" + c.file + ": " + c.parser.error();
          // A close before any byte is an I/O failure, not a malformed response.
          return Fail(c, c.parser.status() == 0 && r != 1 ? ErrorKind::kIo : ErrorKind::kProtocol);
        }
        if (st == ResponseParser::State::kComplete) return OnResponse(c);
        break;
      }
    }
  }
}

void LoadGen::FillSlots(std::int64_t now) {
  if (o_.rate > 0) {
    // Every request due before the end is sent, even if the loop falls behind: dropping
    // the backlog would hide exactly the overload the open loop is there to show.
    const std::uint64_t due = schedule_.DueCount(std::min(now, end_ns_ - 1) - start_ns_);
    while (started_ < due) {
      // At the in-flight cap a due request waits for a slot; its latency keeps counting.
      if (free_.empty()) return;
      const std::size_t slot = free_.back();
      free_.pop_back();
      const std::uint64_t k = started_++;
      if (now - (start_ns_ + schedule_.DueAt(k)) > 1'000'000) ++late_starts_;
      const std::size_t seq_len = Sequence(0).size();
      StartConnection(conns_[slot], (k / seq_len) % devices_.size(), k % seq_len, start_ns_ + schedule_.DueAt(k));
    }
    return;
  }
  // A per-device unit reserves its whole sequence against --count, so a bounded run fetches
  // complete sequences (the pre-rendering step relies on every device getting both files).
  const std::size_t seq_len = Sequence(0).size();
  while (now < end_ns_ && started_ + unit_cost_ <= o_.count && !free_.empty()) {
    const std::size_t slot = free_.back();
    free_.pop_back();
    const std::uint64_t unit = next_unit_++;
    started_ += unit_cost_;
    if (o_.conn == ConnMode::kPerRequest) {
      StartConnection(conns_[slot], (unit / seq_len) % devices_.size(), unit % seq_len, NowNs());
    } else {
      StartConnection(conns_[slot], unit % devices_.size(), 0, NowNs());
    }
    now = NowNs();
  }
}

void LoadGen::CheckTimeouts(std::int64_t now) {
  for (auto& c : conns_) {
    if (c.phase != Phase::kFree && now >= c.deadline_ns) {
      if (first_error_.empty()) first_error_ = "timeout on /" + c.file;
      Fail(c, ErrorKind::kTimeout);
    }
  }
}

Status LoadGen::Run() {
  std::memset(&addr_, 0, sizeof addr_);
  std::string host = o_.host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr_);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(o_.port);
    addr_len_ = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(o_.port);
    addr_len_ = sizeof(sockaddr_in6);
  } else {
    return Error::InvalidArgument("bad address " + o_.host);
  }
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return Error::Unavailable("epoll_create1 failed");
  conns_.resize(static_cast<std::size_t>(o_.concurrency));
  for (std::size_t i = conns_.size(); i > 0; --i) free_.push_back(i - 1);

  const auto server_cpu0 = ProcessCpuSeconds(o_.server_pids);
  const double cpu0 = CpuSeconds();
  start_ns_ = NowNs();
  end_ns_ = start_ns_ + static_cast<std::int64_t>(o_.duration_s * 1e9);
  // In-flight requests get their timeout after the end, then the run stops regardless.
  const std::int64_t hard_end = end_ns_ + static_cast<std::int64_t>(o_.timeout_ms) * 1'000'000 + 1'000'000'000;
  std::vector<epoll_event> events(256);
  std::int64_t next_timeout_scan = start_ns_;
  for (std::int64_t now = start_ns_; now < hard_end; now = NowNs()) {
    FillSlots(now);
    const bool backlog = o_.rate > 0 && started_ < schedule_.DueCount(end_ns_ - 1 - start_ns_);
    if (active_ == 0 && !backlog && (now >= end_ns_ || started_ + unit_cost_ > o_.count)) break;
    if (now >= next_timeout_scan) {
      CheckTimeouts(now);
      next_timeout_scan = now + 5'000'000;
    }
    // Sleep until I/O, the next scheduled request or the next timeout scan.
    std::int64_t wake = next_timeout_scan;
    // At the in-flight cap only a finishing request can start the next one: wait for I/O.
    if (o_.rate > 0 && started_ < o_.count && !free_.empty()) {
      wake = std::min(wake, start_ns_ + schedule_.DueAt(started_));
    }
    const std::int64_t wait_ns = std::max<std::int64_t>(0, wake - now);
    const timespec ts{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
    const int n = epoll_pwait2(epfd_, events.data(), static_cast<int>(events.size()), &ts, nullptr);
    if (n < 0 && errno != EINTR) return Error::Unavailable(std::string("epoll: ") + std::strerror(errno));
    for (int i = 0; i < n; ++i) {
      Conn& c = conns_[static_cast<std::size_t>(events[static_cast<std::size_t>(i)].data.u64)];
      if (c.phase != Phase::kFree) Advance(c);
    }
  }
  for (auto& c : conns_) {
    if (c.phase != Phase::kFree) Fail(c, ErrorKind::kTimeout);
  }
  end_ns_ = NowNs();
  cpu_s_ = CpuSeconds() - cpu0;
  if (server_cpu0) {
    if (auto s1 = ProcessCpuSeconds(o_.server_pids)) server_cpu_s_ = *s1 - *server_cpu0;
  }
  ::close(epfd_);
  return Ok();
}

nlohmann::json LoadGen::Report() const {
  const double secs = static_cast<double>(end_ns_ - start_ns_) / 1e9;
  nlohmann::json errors = nlohmann::json::object();
  std::uint64_t total_errors = 0;
  for (int k = 0; k < static_cast<int>(ErrorKind::kCount); ++k) {
    errors[kErrorNames[k]] = errors_[k];
    total_errors += errors_[k];
  }
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [code, n] : statuses_) statuses[std::to_string(code)] = n;
  const double per_req = answered_ == 0 ? 0 : 1e6 / static_cast<double>(answered_);
  nlohmann::json r = {
      {"label", o_.label},
      {"target", fmt::format("{}:{}", o_.host, o_.port)},
      {"conn", ConnModeName(o_.conn)},
      {"tls", TlsVersionName(o_.tls)},
      {"loop", o_.rate > 0 ? "open" : "closed"},
      {"concurrency", o_.concurrency},
      {"offered_rate", o_.rate},
      {"devices", devices_.size()},
      {"seconds", secs},
      {"requests", completed_},
      {"ok", ok_},
      {"answered", answered_},
      {"errors_total", total_errors},
      {"errors", errors},
      {"statuses", statuses},
      {"late_starts", late_starts_},
      {"requests_per_s", static_cast<double>(completed_) / secs},
      {"handshakes", handshakes_},
      {"handshakes_per_s", static_cast<double>(handshakes_) / secs},
      {"latency_us",
       {{"p50", latency_.Quantile(0.50)},
        {"p90", latency_.Quantile(0.90)},
        {"p99", latency_.Quantile(0.99)},
        {"max", latency_.max()},
        {"mean", latency_.Mean()}}},
      {"client_cpu_s", cpu_s_},
      {"client_cpu_us_per_request", cpu_s_ * per_req},
      {"first_error", first_error_},
  };
  if (server_cpu_s_) {
    r["server_cpu_s"] = *server_cpu_s_;
    r["server_cpu_us_per_request"] = *server_cpu_s_ * per_req;
  }
  return r;
}

std::string LoadGen::HumanLine() const {
  const auto r = Report();
  std::string line = fmt::format(
      "{}{} {} TLS {} {}: {} req in {:.1f} s = {:.0f} req/s, {:.0f} handshakes/s, errors {} "
      "(connect {} handshake {} status {} timeout {} io {} protocol {} body {}), latency us "
      "p50 {} p90 {} p99 {} max {}, client CPU {:.0f} us/req",
      o_.label.empty() ? "" : o_.label + ": ", r["target"].get<std::string>(), ConnModeName(o_.conn),
      TlsVersionName(o_.tls),
      o_.rate > 0 ? fmt::format("open loop {} req/s", o_.rate) : fmt::format("closed loop c={}", o_.concurrency),
      completed_, r["seconds"].get<double>(), r["requests_per_s"].get<double>(), r["handshakes_per_s"].get<double>(),
      r["errors_total"].get<std::uint64_t>(), errors_[0], errors_[1], errors_[2], errors_[3], errors_[4], errors_[5],
      errors_[6], latency_.Quantile(0.5), latency_.Quantile(0.9), latency_.Quantile(0.99), latency_.max(),
      r["client_cpu_us_per_request"].get<double>());
  if (server_cpu_s_) line += fmt::format(", server CPU {:.0f} us/req", r["server_cpu_us_per_request"].get<double>());
  if (!first_error_.empty()) line += "; first error: " + first_error_;
  return line;
}

Result<SslCtxPtr> MakeContext(const LoadgenOptions& o) {
  return MakePhoneClientContext(o.ca_file, o.tls == TlsVersion::kTls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    fmt::print("{}", LoadgenUsage());
    return 0;
  }
  auto parsed = ParseLoadgenArgs(args);
  if (!parsed) {
    fmt::print(stderr, "provgate_loadgen: {}\n\n{}", parsed.error().message, LoadgenUsage());
    return 2;
  }
  const LoadgenOptions opts = std::move(parsed).value();
  std::signal(SIGPIPE, SIG_IGN);
  auto loaded = LoadDevices(opts.certs_dir, opts.devices);
  if (!loaded) {
    fmt::print(stderr, "provgate_loadgen: {}\n", loaded.error().message);
    return 1;
  }
  std::vector<Device> devices = std::move(loaded).value();
  if (opts.sequence == Sequence::kWrongDevice && devices.size() < 2) {
    fmt::print(stderr, "provgate_loadgen: --wrong-device needs at least two devices\n");
    return 2;
  }
  if (!opts.save_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.save_dir, ec);
  }
  auto made = MakeContext(opts);
  if (!made) {
    fmt::print(stderr, "provgate_loadgen: {}\n", made.error().message);
    return 1;
  }
  const SslCtxPtr ctx = std::move(made).value();
  LoadGen gen(opts, std::move(devices), ctx.get());
  if (auto st = gen.Run(); !st) {
    fmt::print(stderr, "provgate_loadgen: {}\n", st.error().message);
    return 1;
  }
  const auto report = gen.Report();
  fmt::print("{}\n{}\n", gen.HumanLine(), report.dump());
  if (!opts.json_out.empty()) {
    std::ofstream f(opts.json_out);
    f << report.dump(2) << "\n";
    if (!f) {
      fmt::print(stderr, "provgate_loadgen: cannot write {}\n", opts.json_out);
      return 1;
    }
  }
  // Exit status 3 says "ran, but with errors", for scripts and the CTest smoke test.
  return report["errors_total"].get<std::uint64_t>() == 0 && report["ok"].get<std::uint64_t>() > 0 ? 0 : 3;
}

}  // namespace
}  // namespace provgate::bench

int main(int argc, char** argv) { return provgate::bench::Main(argc, argv); }
