#include "net/proxy_protocol.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

namespace provgate::net {
namespace {

constexpr std::array<std::uint8_t, 12> kV2Signature = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                                       0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
constexpr std::string_view kV1Prefix = "PROXY ";

using Parsed = Result<std::optional<ProxyHeader>>;

Parsed Invalid(const char* why) { return Error::InvalidArgument(std::string("PROXY protocol: ") + why); }

bool ParsePort(std::string_view s, std::uint16_t& out) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 65535) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

Parsed ParseV1(std::string_view text) {
  const std::string_view window = text.substr(0, kMaxProxyV1Bytes);
  const size_t crlf = window.find("\r\n");
  if (crlf == std::string_view::npos) {
    if (text.size() >= kMaxProxyV1Bytes) return Invalid("v1 line too long");
    if (window.find('\n') != std::string_view::npos) return Invalid("v1 bare LF");
    return std::optional<ProxyHeader>();
  }
  const std::string_view line = window.substr(0, crlf);
  for (char c : line) {
    if (c < 0x20 || c > 0x7e) return Invalid("v1 non-printable byte");
  }
  std::vector<std::string_view> words;
  std::string_view rest = line;
  while (words.size() < 7) {
    const size_t sp = rest.find(' ');
    words.push_back(rest.substr(0, sp));
    if (words.back().empty()) return Invalid("v1 empty field");
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp + 1);
  }
  ProxyHeader h;
  h.version = 1;
  h.consumed = crlf + 2;
  if (words.size() >= 2 && words[1] == "UNKNOWN") return std::optional<ProxyHeader>(h);
  if (words.size() != 6) return Invalid("v1 wrong field count");
  const bool v6 = words[1] == "TCP6";
  if (!v6 && words[1] != "TCP4") return Invalid("v1 unknown protocol");
  for (size_t i : {size_t{2}, size_t{3}}) {
    if ((words[i].find(':') != std::string_view::npos) != v6) {
      return Invalid("v1 address family mismatch");
    }
  }
  auto src = IpAddress::Parse(words[2]);
  auto dst = IpAddress::Parse(words[3]);
  if (!src || !dst) return Invalid("v1 bad address");
  if (!ParsePort(words[4], h.source_port) || !ParsePort(words[5], h.destination_port)) {
    return Invalid("v1 bad port");
  }
  h.has_source = true;
  h.source = *src;
  h.destination = *dst;
  return std::optional<ProxyHeader>(h);
}

std::uint16_t Be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((unsigned{p[0]} << 8) | p[1]); }

Parsed ParseV2(std::span<const std::uint8_t> data) {
  if (data.size() < 16) return std::optional<ProxyHeader>();
  const std::uint8_t ver_cmd = data[12];
  const std::uint8_t fam = data[13];
  const size_t len = Be16(&data[14]);
  if ((ver_cmd >> 4) != 2) return Invalid("v2 bad version");
  const unsigned command = ver_cmd & 0x0fu;
  if (command > 1) return Invalid("v2 bad command");
  const size_t total = 16 + len;
  if (total > kMaxProxyV2Bytes) return Invalid("v2 header too long");
  if (data.size() < total) return std::optional<ProxyHeader>();

  ProxyHeader h;
  h.version = 2;
  h.consumed = total;
  const std::uint8_t* body = data.data() + 16;
  size_t addr_len = 0;
  switch (fam) {
    case 0x00: addr_len = 0; break;    // UNSPEC
    case 0x11: addr_len = 12; break;   // TCP over IPv4
    case 0x21: addr_len = 36; break;   // TCP over IPv6
    case 0x31: addr_len = 216; break;  // UNIX stream
    default: return Invalid("v2 unsupported family/transport");
  }
  if (len < addr_len) return Invalid("v2 address block too short");
  // The rest are TLVs (type, 16-bit length, value); they must tile the block exactly.
  for (size_t at = addr_len; at < len;) {
    if (len - at < 3) return Invalid("v2 truncated TLV");
    const size_t tlv_len = Be16(body + at + 1);
    if (len - at - 3 < tlv_len) return Invalid("v2 TLV overruns header");
    at += 3 + tlv_len;
  }
  // LOCAL: the balancer's own connection (health check); the address block is ignored.
  if (command == 0 || fam == 0x00 || fam == 0x31) return std::optional<ProxyHeader>(h);
  if (fam == 0x11) {
    h.source = IpAddress::V4({body[0], body[1], body[2], body[3]});
    h.destination = IpAddress::V4({body[4], body[5], body[6], body[7]});
    h.source_port = Be16(body + 8);
    h.destination_port = Be16(body + 10);
  } else {
    std::array<std::uint8_t, 16> s{};
    std::array<std::uint8_t, 16> d{};
    std::copy(body, body + 16, s.begin());
    std::copy(body + 16, body + 32, d.begin());
    h.source = IpAddress::V6(s);
    h.destination = IpAddress::V6(d);
    h.source_port = Be16(body + 32);
    h.destination_port = Be16(body + 34);
  }
  h.has_source = true;
  return std::optional<ProxyHeader>(h);
}

}  // namespace

Result<std::optional<ProxyHeader>> ParseProxyHeader(std::span<const std::uint8_t> data) {
  if (data.empty()) return std::optional<ProxyHeader>();
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (data[0] == 'P') {
    const size_t n = std::min(text.size(), kV1Prefix.size());
    if (text.substr(0, n) != kV1Prefix.substr(0, n)) return Invalid("no header");
    if (text.size() < kV1Prefix.size()) return std::optional<ProxyHeader>();
    return ParseV1(text);
  }
  const size_t n = std::min(data.size(), kV2Signature.size());
  if (!std::equal(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n), kV2Signature.begin())) {
    return Invalid("no header");
  }
  return ParseV2(data);
}

}  // namespace provgate::net
