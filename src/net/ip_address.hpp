// IP addresses and CIDR ranges parsed strictly from untrusted text (configuration, proxy
// headers, PROXY protocol). Inside provgate an address is an IpAddress, never a string, so
// bans, allowlists and tenant ranges compare bytes, not spellings.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::net {

enum class Family : std::uint8_t { kV4, kV6 };

class IpAddress {
 public:
  // Accepts IPv4 dotted quads (four decimal octets 0-255, no leading zeros: "010" could mean
  // octal to another parser, so it is refused) and IPv6 text per RFC 4291 (hex groups of at
  // most 4 digits, one "::", an optional trailing dotted quad). Refuses zone ids ("%eth0"),
  // brackets, whitespace and anything else. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
  // the IPv4 address a.b.c.d: dual-stack sockets report IPv4 peers that way, and a ban or an
  // allowlist must not depend on which socket a client reached.
  static Result<IpAddress> Parse(std::string_view text);
  static IpAddress V4(const std::array<std::uint8_t, 4>& bytes);
  // Unmaps ::ffff:a.b.c.d like Parse does.
  static IpAddress V6(const std::array<std::uint8_t, 16>& bytes);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  // 32 or 128.
  int bit_length() const { return family_ == Family::kV4 ? 32 : 128; }
  // The first 4 (IPv4) or 16 (IPv6) bytes are the address in network order; the rest are 0.
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  size_t byte_length() const { return family_ == Family::kV4 ? 4 : 16; }

  // Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as "::").
  std::string ToString() const;
  // The address with a port, as every audit record spells a peer: "a.b.c.d:port", or
  // "[v6]:port" (RFC 3986 brackets, so the port cannot be mistaken for a group).
  std::string ToEndpointString(std::uint16_t port) const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 flags the comparison it defaults.
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  IpAddress(Family f, const std::array<std::uint8_t, 16>& b) : family_(f), bytes_(b) {}
  Family family_ = Family::kV4;
  std::array<std::uint8_t, 16> bytes_{};
};

// A network: an address with its host bits zero and a prefix length.
class Cidr {
 public:
  // "192.0.2.0/24", "2001:db8::/32", or a bare address meaning a single host (/32, /128).
  // The prefix is decimal without leading zeros and at most the address length. Host bits
  // must be zero ("192.0.2.1/24" is refused: did the operator mean the host or the
  // network?). "::ffff:a.b.c.d/n" with n >= 96 is the IPv4 network a.b.c.d/(n-96).
  static Result<Cidr> Parse(std::string_view text);
  // The network of `prefix_length` bits containing `address` (e.g. its /24 or /64);
  // kInvalidArgument when prefix_length is outside 0..bit_length.
  static Result<Cidr> Of(const IpAddress& address, int prefix_length);
  // The single-host network of `address`.
  static Cidr Host(const IpAddress& address);

  const IpAddress& network() const { return network_; }
  int prefix_length() const { return prefix_length_; }
  Family family() const { return network_.family(); }

  // False for an address of the other family.
  bool Contains(const IpAddress& address) const;
  // True when the two networks share at least one address.
  bool Overlaps(const Cidr& other) const;

  // Always with the prefix: "192.0.2.7/32", "2001:db8::/32".
  std::string ToString() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 flags the comparison it defaults.
  friend auto operator<=>(const Cidr&, const Cidr&) = default;

 private:
  Cidr(const IpAddress& network, int prefix_length) : network_(network), prefix_length_(prefix_length) {}
  IpAddress network_;
  int prefix_length_ = 0;
};

// A small set of networks (trusted proxies, an allowlist, a tenant's ranges). Lookups scan
// linearly: these lists are configured by hand and stay short. Immutable after set-up, so
// concurrent Contains calls are safe.
class IpSet {
 public:
  IpSet() = default;
  // Parses every entry with Cidr::Parse; the error names the first bad entry.
  static Result<IpSet> Parse(const std::vector<std::string>& entries);

  void Add(const Cidr& cidr);
  bool Contains(const IpAddress& address) const;
  // True when some entry shares an address with `cidr`.
  bool Overlaps(const Cidr& cidr) const;
  bool empty() const { return entries_.empty(); }
  const std::vector<Cidr>& entries() const { return entries_; }
  // Each entry as Cidr::ToString writes it, in order.
  std::vector<std::string> ToStrings() const;

  friend bool operator==(const IpSet&, const IpSet&) = default;

 private:
  std::vector<Cidr> entries_;
};

}  // namespace provgate::net
