#include "net/forwarded.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "net/http_token.hpp"

namespace provgate::net {
namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool IsPort(std::string_view s) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 65535;
}

// RFC 7239 obfport: "_" 1*(ALPHA / DIGIT / "." / "_" / "-").
bool IsObfPort(std::string_view s) {
  if (s.size() < 2 || s[0] != '_') return false;
  for (char c : s.substr(1)) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "192.0.2.1", "192.0.2.1:80", "[2001:db8::1]", "[2001:db8::1]:80"; for X-Forwarded-For
// also a bare "2001:db8::1" (proxies write it unbracketed).
Result<IpAddress> ParseNode(std::string_view node, bool allow_bare_v6, bool allow_obf_port) {
  std::string_view host = node;
  std::string_view port;
  bool has_port = false;
  if (!node.empty() && node.front() == '[') {
    const size_t close = node.find(']');
    if (close == std::string_view::npos) return Error::InvalidArgument("unclosed '['");
    host = node.substr(1, close - 1);
    const std::string_view rest = node.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Error::InvalidArgument("junk after ']'");
      port = rest.substr(1);
      has_port = true;
    }
    if (host.find(':') == std::string_view::npos) return Error::InvalidArgument("[] needs IPv6");
  } else {
    const size_t first = node.find(':');
    if (first != std::string_view::npos && node.find(':', first + 1) == std::string_view::npos) {
      host = node.substr(0, first);
      port = node.substr(first + 1);
      has_port = true;
    } else if (first != std::string_view::npos && !allow_bare_v6) {
      return Error::InvalidArgument("IPv6 node must be bracketed");
    }
  }
  if (has_port && !IsPort(port) && !(allow_obf_port && IsObfPort(port))) {
    return Error::InvalidArgument("bad port");
  }
  return IpAddress::Parse(host);
}

class ForwardedParser {
 public:
  explicit ForwardedParser(std::string_view s) : s_(s) {}

  Result<std::vector<IpAddress>> Run() {
    std::vector<IpAddress> hops;
    for (;;) {
      SkipOws();
      if (hops.size() >= kMaxForwardedHops) return Error::InvalidArgument("too many hops");
      PG_TRY(auto hop, Element());
      hops.push_back(hop);
      SkipOws();
      if (pos_ == s_.size()) return hops;
      if (s_[pos_] != ',') return Error::InvalidArgument("expected ','");
      ++pos_;
    }
  }

 private:
  Result<IpAddress> Element() {
    std::optional<IpAddress> for_addr;
    bool seen_for = false, seen_by = false, seen_proto = false, seen_host = false;
    for (;;) {
      SkipOws();
      const size_t name_start = pos_;
      while (pos_ < s_.size() && IsHttpTokenChar(s_[pos_])) ++pos_;
      const std::string_view name = s_.substr(name_start, pos_ - name_start);
      if (name.empty() || pos_ >= s_.size() || s_[pos_] != '=') {
        return Error::InvalidArgument("expected name=value");
      }
      ++pos_;
      PG_TRY(std::string value, Value());
      if (EqualsLower(name, "for")) {
        if (seen_for) return Error::InvalidArgument("duplicate for=");
        seen_for = true;
        auto addr = ParseNode(value, false, true);
        if (!addr) return Error::InvalidArgument("for= is not an address");
        for_addr = *addr;
      } else if (EqualsLower(name, "by")) {
        if (seen_by) return Error::InvalidArgument("duplicate by=");
        seen_by = true;
      } else if (EqualsLower(name, "proto")) {
        if (seen_proto) return Error::InvalidArgument("duplicate proto=");
        seen_proto = true;
      } else if (EqualsLower(name, "host")) {
        if (seen_host) return Error::InvalidArgument("duplicate host=");
        seen_host = true;
      }
      SkipOws();
      if (pos_ < s_.size() && s_[pos_] == ';') {
        ++pos_;
        continue;
      }
      break;
    }
    if (!for_addr) return Error::InvalidArgument("element without for=");
    return *for_addr;
  }

  Result<std::string> Value() {
    std::string out;
    if (pos_ < s_.size() && s_[pos_] == '"') {
      ++pos_;
      for (;;) {
        if (pos_ >= s_.size()) return Error::InvalidArgument("unterminated quoted string");
        const auto c = static_cast<unsigned char>(s_[pos_++]);
        if (c == '"') return out;
        if (c == '\\') {
          if (pos_ >= s_.size()) return Error::InvalidArgument("dangling escape");
          const auto e = static_cast<unsigned char>(s_[pos_++]);
          if (e < 0x20 && e != '\t') return Error::InvalidArgument("control character");
          if (e == 0x7f) return Error::InvalidArgument("control character");
          out.push_back(static_cast<char>(e));
          continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return Error::InvalidArgument("control character");
        }
        out.push_back(static_cast<char>(c));
      }
    }
    const size_t start = pos_;
    while (pos_ < s_.size() && IsHttpTokenChar(s_[pos_])) ++pos_;
    if (pos_ == start) return Error::InvalidArgument("empty value");
    return std::string(s_.substr(start, pos_ - start));
  }

  static bool EqualsLower(std::string_view name, std::string_view lower) {
    if (name.size() != lower.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != lower[i]) return false;
    }
    return true;
  }

  void SkipOws() {
    while (pos_ < s_.size() && IsOws(s_[pos_])) ++pos_;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

namespace {

// Splits a Forwarded value at the commas between elements (not those inside quoted strings).
std::vector<std::string_view> SplitForwardedElements(std::string_view value) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (quoted && c == '\\') {
      ++i;  // the escaped character, whatever it is
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(value.substr(start));
  return out;
}

Result<std::vector<std::optional<IpAddress>>> Strict(Result<std::vector<std::optional<IpAddress>>> hops) {
  PG_TRY(auto list, std::move(hops));
  std::vector<std::optional<IpAddress>> out;
  for (auto& h : list) {
    if (!h) return Error::InvalidArgument("element is not an address");
    out.push_back(h);
  }
  return out;
}

std::vector<IpAddress> Unwrap(const std::vector<std::optional<IpAddress>>& hops) {
  std::vector<IpAddress> out;
  out.reserve(hops.size());
  for (const auto& h : hops) out.push_back(*h);
  return out;
}

// One element of an X-Forwarded-For value: its address, or nullopt when it is not one.
std::optional<IpAddress> XForwardedForHop(std::string_view element) {
  element = TrimOws(element);
  if (element.empty()) return std::nullopt;
  auto addr = ParseNode(element, true, false);
  return addr ? std::optional(*addr) : std::nullopt;
}

// The last `max` hops of an X-Forwarded-For value, left to right, and whether hops before
// them were left unread. Nothing left of them is read, so a client's own line, however long,
// cannot make the hops the trusted proxies appended unreadable.
struct HopTail {
  std::vector<std::optional<IpAddress>> hops;
  bool cut = false;
};
HopTail XForwardedForTail(std::string_view value, size_t max) {
  HopTail tail;
  for (;;) {
    const size_t comma = value.rfind(',');
    tail.hops.push_back(XForwardedForHop(comma == std::string_view::npos ? value : value.substr(comma + 1)));
    if (comma == std::string_view::npos) break;
    if (tail.hops.size() == max) {
      tail.cut = true;
      break;
    }
    value = value.substr(0, comma);
  }
  std::reverse(tail.hops.begin(), tail.hops.end());
  return tail;
}

}  // namespace

Result<std::vector<std::optional<IpAddress>>> XForwardedForHops(std::string_view value) {
  if (value.size() > kMaxForwardedHeaderBytes) return Error::InvalidArgument("header too long");
  std::vector<std::optional<IpAddress>> hops;
  for (;;) {
    const size_t comma = value.find(',');
    if (hops.size() >= kMaxForwardedHops) return Error::InvalidArgument("too many hops");
    hops.push_back(XForwardedForHop(value.substr(0, comma)));
    if (comma == std::string_view::npos) return hops;
    value.remove_prefix(comma + 1);
  }
}

Result<std::vector<std::optional<IpAddress>>> ForwardedHops(std::string_view value) {
  if (value.size() > kMaxForwardedHeaderBytes) return Error::InvalidArgument("header too long");
  std::vector<std::optional<IpAddress>> hops;
  for (const std::string_view element : SplitForwardedElements(value)) {
    if (hops.size() >= kMaxForwardedHops) return Error::InvalidArgument("too many hops");
    auto parsed = ForwardedParser(element).Run();
    hops.push_back(parsed && parsed->size() == 1 ? std::optional(parsed->front()) : std::nullopt);
  }
  return hops;
}

Result<std::vector<IpAddress>> ParseXForwardedFor(std::string_view value) {
  PG_TRY(auto hops, Strict(XForwardedForHops(value)));
  return Unwrap(hops);
}

Result<std::vector<IpAddress>> ParseForwarded(std::string_view value) {
  PG_TRY(auto hops, Strict(ForwardedHops(value)));
  return Unwrap(hops);
}

ClientAddress ResolveClientAddress(const IpAddress& peer, const TrustedProxies& trusted, std::string_view forwarded,
                                   std::string_view x_forwarded_for) {
  ClientAddress result{peer, ClientAddressSource::kPeer, {}};
  const bool any_header = !forwarded.empty() || !x_forwarded_for.empty();
  if (trusted.header == ForwardedHeader::kNone || !trusted.proxies.Contains(peer)) {
    if (any_header) result.note = "forwarding header from untrusted peer ignored";
    return result;
  }
  const bool use_forwarded = trusted.header == ForwardedHeader::kForwarded;
  const std::string_view value = use_forwarded ? forwarded : x_forwarded_for;
  const char* name = use_forwarded ? "Forwarded" : "X-Forwarded-For";
  if (value.empty()) {
    result.note = std::string("trusted proxy sent no ") + name + " header";
    return result;
  }
  // X-Forwarded-For is read from its right end only (its bounds apply to the hops walked);
  // Forwarded whole, since a quoted string may hold commas. A Forwarded header over its
  // bounds is unattributable: taking the proxy for the client would let a client pad its
  // own line and borrow the proxy's address.
  Result<std::vector<std::optional<IpAddress>>> hops = std::vector<std::optional<IpAddress>>();
  bool cut = false;
  if (use_forwarded) {
    hops = ForwardedHops(value);
  } else {
    HopTail tail = XForwardedForTail(value, kMaxForwardedHops);
    cut = tail.cut;
    hops = std::move(tail.hops);
  }
  if (!hops) {
    result.source = ClientAddressSource::kMalformedHop;
    result.note =
        std::string("the ") + name + " header from the trusted proxy is over its bounds (" + hops.error().message + ")";
    return result;
  }
  // The rightmost hop was appended by the peer itself; walk back while hops are proxies.
  for (auto it = hops->rbegin(); it != hops->rend(); ++it) {
    if (!*it) {
      result.source = ClientAddressSource::kMalformedHop;
      result.note = std::string("the ") + name + " hop naming the client is not an address";
      return result;
    }
    if (!trusted.proxies.Contains(**it)) {
      result.address = **it;
      result.source = ClientAddressSource::kForwardingHeader;
      return result;
    }
  }
  if (cut) {
    result.source = ClientAddressSource::kMalformedHop;
    result.note =
        std::string("more than ") + std::to_string(kMaxForwardedHops) + " trusted proxies in the " + name + " header";
    return result;
  }
  result.address = *hops->front();
  result.source = ClientAddressSource::kForwardingHeader;
  return result;
}

}  // namespace provgate::net
