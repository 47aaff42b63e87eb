// Turns a verified client certificate into a device identity. The MAC is read by
// configurable per-vendor rules (a subject attribute such as CN, serialNumber or the ST
// "S=" attribute of Cisco SPA/MPP certificates, or a SAN DNS/URI entry), with an optional
// prefix stripped and any separator style/case accepted, then canonicalised.
// Trust level: input is a certificate whose chain OpenSSL has already verified against the
// listener's trust anchors; the functions still never assume well-formed fields.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "core/mac_address.hpp"

namespace provgate::tls {

enum class MacSource { kSubjectAttribute, kSanDns, kSanUri };

struct MacRule {
  std::string vendor;  // vendor this rule is meant for; empty = any (informational)
  MacSource source = MacSource::kSubjectAttribute;
  std::string attribute;  // subject attribute short/long name or dotted OID ("CN", "serialNumber", "ST", "2.5.4.5")
  std::string prefix;     // stripped case-insensitively before parsing, e.g. "SEP" or "urn:dev:mac:"

  // "subject:CN", "subject:ST:prefix=SEP", "san:dns", "san:uri:prefix=urn:dev:mac:".
  std::string Describe() const;
};

// Parses the spec syntax above (used in the config file and the CLI).
Result<MacRule> ParseMacRule(std::string_view spec);

// The rules used when the config file names none: CN, serialNumber, ST (Cisco S=),
// SAN DNS and SAN URI with the "urn:dev:mac:" prefix.
std::vector<MacRule> DefaultMacRules();

struct CertIdentity {
  core::MacAddress mac = core::MacAddress::Zero();
  std::string subject;         // RFC 2253 one line
  std::string issuer;          // RFC 2253 one line
  std::string cert_sha256;     // hex SHA-256 of the DER certificate
  std::string spki_sha256;     // hex SHA-256 of the DER SubjectPublicKeyInfo (for pinning)
  std::string matched_rule;    // MacRule::Describe() of the rule that matched
  std::int64_t not_after = 0;  // unix seconds
};

// First rule (in order) that yields a valid MAC wins. kNotFound when no rule matches,
// kInvalidArgument when the certificate is unusable. Thread-safe.
Result<CertIdentity> ExtractIdentity(X509* cert, const std::vector<MacRule>& rules);

// The identity of a TLS connection's verified peer certificate at `now` (unix seconds).
// A resumed session skips certificate verification, so a certificate that expired after
// its session began fails here (kFailedPrecondition) instead of being trusted until the
// ticket runs out. kNotFound when there is no peer certificate or no rule matches.
Result<CertIdentity> PeerIdentity(SSL* ssl, const std::vector<MacRule>& rules, std::int64_t now);

// RFC 2253 one-line subject, "" on failure.
std::string SubjectOneLine(X509* cert);

}  // namespace provgate::tls
