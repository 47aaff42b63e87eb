#include "net/ip_address.hpp"

#include <algorithm>
#include <optional>

namespace provgate::net {
namespace {

// The longest valid text: ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 (45 characters).
constexpr size_t kMaxAddressText = 45;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decimal 0..max without sign or leading zeros; nullopt otherwise.
std::optional<unsigned> ParseDecimal(std::string_view s, unsigned max, size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

std::optional<std::array<std::uint8_t, 4>> ParseDottedQuad(std::string_view s) {
  std::array<std::uint8_t, 4> out{};
  for (size_t i = 0; i < 4; ++i) {
    const size_t dot = i < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos) return std::nullopt;
    const auto octet = ParseDecimal(s.substr(0, dot), 255, 3);
    if (!octet) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(*octet);
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  if (!s.empty()) return std::nullopt;
  return out;
}

// Parses colon-separated hex groups; when `allow_quad` the last element may be a dotted quad
// (two groups). An empty `s` is zero groups.
bool ParseGroups(std::string_view s, bool allow_quad, std::vector<std::uint16_t>& groups) {
  if (s.empty()) return true;
  for (;;) {
    const size_t colon = s.find(':');
    const std::string_view part = s.substr(0, colon);
    const bool last = colon == std::string_view::npos;
    if (last && allow_quad && part.find('.') != std::string_view::npos) {
      const auto quad = ParseDottedQuad(part);
      if (!quad) return false;
      groups.push_back(static_cast<std::uint16_t>(((*quad)[0] << 8) | (*quad)[1]));
      groups.push_back(static_cast<std::uint16_t>(((*quad)[2] << 8) | (*quad)[3]));
      return true;
    }
    if (part.empty() || part.size() > 4) return false;
    unsigned v = 0;
    for (char c : part) {
      const int h = HexValue(c);
      if (h < 0) return false;
      v = (v << 4) | static_cast<unsigned>(h);
    }
    groups.push_back(static_cast<std::uint16_t>(v));
    if (last) return true;
    s.remove_prefix(colon + 1);
    if (groups.size() > 8) return false;
  }
}

std::optional<std::array<std::uint8_t, 16>> ParseV6(std::string_view s) {
  std::vector<std::uint16_t> head;
  std::vector<std::uint16_t> tail;
  const size_t gap = s.find("::");
  if (gap == std::string_view::npos) {
    if (!ParseGroups(s, true, head) || head.size() != 8) return std::nullopt;
  } else {
    const std::string_view left = s.substr(0, gap);
    const std::string_view right = s.substr(gap + 2);
    if (right.find("::") != std::string_view::npos) return std::nullopt;
    // ":::" and a dangling ':' leave an empty group, which ParseGroups refuses.
    if (!ParseGroups(left, false, head) || !ParseGroups(right, true, tail)) return std::nullopt;
    if (head.size() + tail.size() > 7) return std::nullopt;
  }
  std::array<std::uint16_t, 8> g{};
  std::copy(head.begin(), head.end(), g.begin());
  std::copy(tail.begin(), tail.end(), g.end() - static_cast<std::ptrdiff_t>(tail.size()));
  std::array<std::uint8_t, 16> out{};
  for (size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(g[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(g[i] & 0xff);
  }
  return out;
}

bool IsV4Mapped(const std::array<std::uint8_t, 16>& b) {
  for (size_t i = 0; i < 10; ++i) {
    if (b[i] != 0) return false;
  }
  return b[10] == 0xff && b[11] == 0xff;
}

// True when the bits of `a` after the first `prefix` bits are all zero.
bool HostBitsZero(const IpAddress& a, int prefix) {
  const auto& b = a.bytes();
  for (size_t i = 0; i < a.byte_length(); ++i) {
    const int bit = static_cast<int>(i) * 8;
    std::uint8_t host_mask = 0xff;
    if (bit + 8 <= prefix) {
      host_mask = 0;
    } else if (bit < prefix) {
      host_mask = static_cast<std::uint8_t>(0xffu >> (prefix - bit));
    }
    if ((b[i] & host_mask) != 0) return false;
  }
  return true;
}

bool SamePrefix(const IpAddress& a, const IpAddress& b, int prefix) {
  if (a.family() != b.family()) return false;
  const auto& x = a.bytes();
  const auto& y = b.bytes();
  const auto full = static_cast<size_t>(prefix / 8);
  for (size_t i = 0; i < full; ++i) {
    if (x[i] != y[i]) return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xffu << (8 - rest));
  return (x[full] & mask) == (y[full] & mask);
}

}  // namespace

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() > kMaxAddressText) {
    return Error::InvalidArgument("not an IP address");
  }
  if (text.find(':') == std::string_view::npos) {
    const auto quad = ParseDottedQuad(text);
    if (!quad) return Error::InvalidArgument("not an IPv4 address (leading zeros are refused)");
    return V4(*quad);
  }
  const auto v6 = ParseV6(text);
  if (!v6) return Error::InvalidArgument("not an IPv6 address");
  return V6(*v6);
}

IpAddress IpAddress::V4(const std::array<std::uint8_t, 4>& bytes) {
  std::array<std::uint8_t, 16> b{};
  std::copy(bytes.begin(), bytes.end(), b.begin());
  return IpAddress(Family::kV4, b);
}

IpAddress IpAddress::V6(const std::array<std::uint8_t, 16>& bytes) {
  if (IsV4Mapped(bytes)) return V4({bytes[12], bytes[13], bytes[14], bytes[15]});
  return IpAddress(Family::kV6, bytes);
}

std::string IpAddress::ToString() const {
  if (is_v4()) {
    return std::to_string(bytes_[0]) + "." + std::to_string(bytes_[1]) + "." + std::to_string(bytes_[2]) + "." +
           std::to_string(bytes_[3]);
  }
  std::array<unsigned, 8> g{};
  for (size_t i = 0; i < 8; ++i) g[i] = (unsigned{bytes_[2 * i]} << 8) | bytes_[2 * i + 1];
  // RFC 5952: compress the longest run (the first on a tie) of two or more zero groups.
  size_t best_at = 8;
  size_t best_len = 1;
  for (size_t i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best_at = i;
      best_len = j - i;
    }
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 8; ++i) {
    if (i == best_at) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nibble = (g[i] >> shift) & 0xf;
      if (nibble != 0 || started || shift == 0) {
        out += kHex[nibble];
        started = true;
      }
    }
  }
  return out;
}

std::string IpAddress::ToEndpointString(std::uint16_t port) const {
  std::string out = is_v4() ? ToString() : "[" + ToString() + "]";
  out += ':';
  out += std::to_string(port);
  return out;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  auto addr = IpAddress::Parse(addr_text);
  if (!addr) return Error::InvalidArgument("not a CIDR range: bad address");
  if (slash == std::string_view::npos) return Host(*addr);
  const auto prefix = ParseDecimal(text.substr(slash + 1), 128, 3);
  if (!prefix) return Error::InvalidArgument("not a CIDR range: bad prefix length");
  int length = static_cast<int>(*prefix);
  const bool written_as_v6 = addr_text.find(':') != std::string_view::npos;
  if (written_as_v6 && addr->is_v4()) {
    // ::ffff:a.b.c.d/n: only a range inside the mapped space has an IPv4 meaning.
    if (length < 96) return Error::InvalidArgument("not a CIDR range: mapped prefix below 96");
    length -= 96;
  }
  if (length > addr->bit_length()) {
    return Error::InvalidArgument("not a CIDR range: prefix length too long");
  }
  if (!HostBitsZero(*addr, length)) {
    return Error::InvalidArgument("not a CIDR range: host bits set (write the network address)");
  }
  return Cidr(*addr, length);
}

Result<Cidr> Cidr::Of(const IpAddress& address, int prefix_length) {
  if (prefix_length < 0 || prefix_length > address.bit_length()) {
    return Error::InvalidArgument("prefix length out of range");
  }
  std::array<std::uint8_t, 16> b = address.bytes();
  for (size_t i = 0; i < 16; ++i) {
    const int bit = static_cast<int>(i) * 8;
    if (bit >= prefix_length) {
      b[i] = 0;
    } else if (bit + 8 > prefix_length) {
      b[i] = static_cast<std::uint8_t>(b[i] & (0xffu << (bit + 8 - prefix_length)));
    }
  }
  if (address.is_v4()) return Cidr(IpAddress::V4({b[0], b[1], b[2], b[3]}), prefix_length);
  // Masking only clears bits, so an IPv6 address that is not IPv4-mapped cannot become one.
  return Cidr(IpAddress::V6(b), prefix_length);
}

Cidr Cidr::Host(const IpAddress& address) { return Cidr(address, address.bit_length()); }

bool Cidr::Contains(const IpAddress& address) const { return SamePrefix(network_, address, prefix_length_); }

bool Cidr::Overlaps(const Cidr& other) const {
  return SamePrefix(network_, other.network_, std::min(prefix_length_, other.prefix_length_));
}

std::string Cidr::ToString() const { return network_.ToString() + "/" + std::to_string(prefix_length_); }

Result<IpSet> IpSet::Parse(const std::vector<std::string>& entries) {
  IpSet set;
  for (const auto& e : entries) {
    auto c = Cidr::Parse(e);
    if (!c) return Error::InvalidArgument("'" + e + "': " + c.error().message);
    set.Add(*c);
  }
  return set;
}

void IpSet::Add(const Cidr& cidr) {
  if (std::find(entries_.begin(), entries_.end(), cidr) == entries_.end()) entries_.push_back(cidr);
}

bool IpSet::Contains(const IpAddress& address) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Cidr& c) { return c.Contains(address); });
}

bool IpSet::Overlaps(const Cidr& cidr) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Cidr& c) { return c.Overlaps(cidr); });
}

std::vector<std::string> IpSet::ToStrings() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& c : entries_) out.push_back(c.ToString());
  return out;
}

}  // namespace provgate::net
