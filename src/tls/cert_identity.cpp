#include "tls/cert_identity.hpp"

#include <openssl/objects.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <optional>

#include "tls/internal/ossl.hpp"

namespace provgate::tls {
namespace {

using internal::Asn1ObjectPtr;
using internal::BioPtr;
using internal::GeneralNamesPtr;
using internal::OsslBytesPtr;

// Bounds on rule text: rules come from operators, but the parser is also fuzzed and an
// OID of thousands of arcs is slow to handle in OpenSSL.
constexpr std::size_t kMaxAttributeLength = 64;
constexpr std::size_t kMaxPrefixLength = 64;
constexpr std::size_t kMaxVendorLength = 64;

char LowerAscii(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return LowerAscii(x) == LowerAscii(y); });
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

bool IsAttributeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

bool IsVisibleAscii(char c) { return c > 0x20 && c < 0x7f; }

// At least two arcs of decimal digits without leading zeros, e.g. 2.5.4.3.
bool IsDottedOid(std::string_view text) {
  std::size_t arcs = 0;
  while (true) {
    const std::size_t dot = text.find('.');
    const std::string_view arc = text.substr(0, dot);
    if (arc.empty() || (arc.size() > 1 && arc.front() == '0') ||
        !std::all_of(arc.begin(), arc.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    ++arcs;
    if (dot == std::string_view::npos) return arcs >= 2;
    text.remove_prefix(dot + 1);
  }
}

// The object an attribute name stands for: a short or long name known to OpenSSL, the Cisco
// alias "S", or a dotted OID. Null when the text names nothing.
Asn1ObjectPtr ResolveAttribute(std::string_view name) {
  name = internal::AttributeAlias(name);
  if (name.empty() || name.size() > kMaxAttributeLength || !std::all_of(name.begin(), name.end(), IsAttributeChar)) {
    return Asn1ObjectPtr(nullptr);
  }
  // OBJ_txt2obj reads "2..5" as 2.0.5; only well-formed dotted OIDs are let through.
  if (std::isdigit(static_cast<unsigned char>(name.front())) != 0 && !IsDottedOid(name)) {
    return Asn1ObjectPtr(nullptr);
  }
  const std::string text(name);
  Asn1ObjectPtr obj(OBJ_txt2obj(text.c_str(), 0));
  // NID_undef has a short name ("UNDEF") but no encoding; it is not an attribute.
  if (obj && OBJ_length(obj.get()) == 0) obj.reset();
  ERR_clear_error();
  return obj;
}

// Short name for a known attribute, dotted OID otherwise, so equal rules describe equally.
// Only a name that resolves back to the same object is used; "" when there is none.
std::string CanonicalAttributeName(const ASN1_OBJECT* obj) {
  const auto resolves_back = [obj](const std::string& name) {
    Asn1ObjectPtr again = ResolveAttribute(name);
    return again && OBJ_cmp(again.get(), obj) == 0;
  };
  const int nid = OBJ_obj2nid(obj);
  if (const char* sn = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr) {
    if (resolves_back(sn)) return sn;
  }
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return {};
  std::string dotted(buf, static_cast<std::size_t>(n));
  return resolves_back(dotted) ? dotted : std::string();
}

// Text of a subject attribute as UTF-8, whatever its ASN.1 string type. Nullopt when it
// cannot be converted or holds a NUL (a classic way to smuggle "good\0evil" past C code).
std::optional<std::string> AttributeText(const ASN1_STRING* value) {
  if (value == nullptr) return std::nullopt;
  unsigned char* raw = nullptr;
  const int n = ASN1_STRING_to_UTF8(&raw, value);
  OsslBytesPtr owned(raw);
  if (n < 0 || (n > 0 && raw == nullptr)) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string text(reinterpret_cast<const char*>(raw), static_cast<std::size_t>(n));
  if (text.find('\0') != std::string::npos) return std::nullopt;
  return text;
}

// Bytes of an IA5String (SAN dNSName / URI), with the same NUL rule.
std::optional<std::string> Ia5Text(const ASN1_STRING* value) {
  if (value == nullptr) return std::nullopt;
  const int n = ASN1_STRING_length(value);
  const unsigned char* data = ASN1_STRING_get0_data(value);
  if (n < 0 || (n > 0 && data == nullptr)) return std::nullopt;
  std::string text(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  if (text.find('\0') != std::string::npos) return std::nullopt;
  return text;
}

std::optional<core::MacAddress> MacFromValue(std::string_view value, std::string_view prefix) {
  if (!prefix.empty()) {
    if (!StartsWithIgnoreCase(value, prefix)) return std::nullopt;
    value.remove_prefix(prefix.size());
  }
  auto mac = core::MacAddress::Parse(value);
  if (!mac) return std::nullopt;
  return *mac;
}

std::optional<core::MacAddress> MacFromSubject(X509* cert, const MacRule& rule) {
  Asn1ObjectPtr obj = ResolveAttribute(rule.attribute);
  if (!obj) return std::nullopt;
  const X509_NAME* name = X509_get_subject_name(cert);
  if (name == nullptr) return std::nullopt;
  for (int i = X509_NAME_get_index_by_OBJ(name, obj.get(), -1); i >= 0;
       i = X509_NAME_get_index_by_OBJ(name, obj.get(), i)) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    if (entry == nullptr) continue;
    auto text = AttributeText(X509_NAME_ENTRY_get_data(entry));
    if (!text) continue;
    if (auto mac = MacFromValue(*text, rule.prefix)) return mac;
  }
  return std::nullopt;
}

std::optional<core::MacAddress> MacFromSan(const GENERAL_NAMES* names, const MacRule& rule) {
  if (names == nullptr) return std::nullopt;
  const int wanted = rule.source == MacSource::kSanDns ? GEN_DNS : GEN_URI;
  const int count = sk_GENERAL_NAME_num(names);
  for (int i = 0; i < count; ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn == nullptr || gn->type != wanted) continue;
    const ASN1_IA5STRING* value = wanted == GEN_DNS ? gn->d.dNSName : gn->d.uniformResourceIdentifier;
    auto text = Ia5Text(value);
    if (!text) continue;
    if (auto mac = MacFromValue(*text, rule.prefix)) return mac;
  }
  return std::nullopt;
}

std::string NameOneLine(const X509_NAME* name) {
  if (name == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  // RFC 2253 flags escape control characters and non-ASCII bytes, so the result is safe
  // to log verbatim.
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return {};
  }
  return internal::BioContents(bio.get());
}

std::string CertSha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
  return internal::Hex(md, len);
}

std::string SpkiSha256(X509* cert) {
  // The whole DER SubjectPublicKeyInfo (RFC 7469 pins), not X509_pubkey_digest, which
  // hashes only the key's BIT STRING.
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  if (spki == nullptr) return {};
  unsigned char* der = nullptr;
  const int n = i2d_X509_PUBKEY(spki, &der);
  OsslBytesPtr owned(der);
  if (n <= 0 || der == nullptr) return {};
  return internal::Sha256Hex(der, static_cast<std::size_t>(n));
}

// Splits "head:tail"; `tail` is nullopt when there is no ':' at all, so "x:" differs from "x".
std::string_view SplitOptions(std::string_view text, std::optional<std::string_view>& tail) {
  const std::size_t colon = text.find(':');
  tail = colon == std::string_view::npos ? std::nullopt : std::optional<std::string_view>(text.substr(colon + 1));
  return text.substr(0, colon);
}

Result<MacRule> ParseSubjectRule(std::string_view rest, std::optional<std::string_view>& options) {
  const std::string_view attr = SplitOptions(rest, options);
  if (attr.empty()) {
    return Error::InvalidArgument("MAC rule 'subject:' needs an attribute, e.g. subject:CN");
  }
  Asn1ObjectPtr obj = ResolveAttribute(attr);
  if (!obj) {
    return Error::InvalidArgument("MAC rule: unknown subject attribute '" + std::string(attr) +
                                  "' (use a name such as CN, serialNumber, ST or a dotted OID)");
  }
  MacRule rule;
  rule.source = MacSource::kSubjectAttribute;
  rule.attribute = CanonicalAttributeName(obj.get());
  if (rule.attribute.empty()) {
    return Error::InvalidArgument("MAC rule: unusable subject attribute '" + std::string(attr) + "'");
  }
  return rule;
}

}  // namespace

std::string MacRule::Describe() const {
  std::string out;
  switch (source) {
    case MacSource::kSubjectAttribute: out = "subject:" + attribute; break;
    case MacSource::kSanDns: out = "san:dns"; break;
    case MacSource::kSanUri: out = "san:uri"; break;
  }
  if (!vendor.empty()) out += ":vendor=" + vendor;
  if (!prefix.empty()) out += ":prefix=" + prefix;
  return out;
}

// Grammar: ("subject:" ATTR | "san:dns" | "san:uri") [":vendor=" NAME] [":prefix=" REST].
// The prefix runs to the end of the spec so that it may itself contain ':'.
Result<MacRule> ParseMacRule(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  if (spec.empty() || colon == std::string_view::npos) {
    return Error::InvalidArgument("MAC rule '" + std::string(spec) +
                                  "' must look like subject:CN, san:dns or san:uri:prefix=urn:dev:mac:");
  }
  const std::string_view source = spec.substr(0, colon);
  const std::string_view rest = spec.substr(colon + 1);
  std::optional<std::string_view> options;
  MacRule rule;
  if (EqualsIgnoreCase(source, "subject")) {
    PG_TRY(rule, ParseSubjectRule(rest, options));
  } else if (EqualsIgnoreCase(source, "san")) {
    const std::string_view kind = SplitOptions(rest, options);
    if (EqualsIgnoreCase(kind, "dns")) {
      rule.source = MacSource::kSanDns;
    } else if (EqualsIgnoreCase(kind, "uri")) {
      rule.source = MacSource::kSanUri;
    } else {
      return Error::InvalidArgument("MAC rule: unknown SAN type '" + std::string(kind) + "' (use san:dns or san:uri)");
    }
  } else {
    return Error::InvalidArgument("MAC rule: unknown source '" + std::string(source) + "' (use subject or san)");
  }

  // Each option at most once; a prefix ends the spec. Every ':' must introduce an option.
  bool have_vendor = false;
  while (options) {
    if (options->empty()) {
      return Error::InvalidArgument("MAC rule '" + std::string(spec) + "' has an empty option");
    }
    if (StartsWithIgnoreCase(*options, "prefix=")) {
      const std::string_view prefix = options->substr(7);
      if (prefix.empty() || prefix.size() > kMaxPrefixLength ||
          !std::all_of(prefix.begin(), prefix.end(), IsVisibleAscii)) {
        return Error::InvalidArgument("MAC rule: prefix must be 1 to 64 visible ASCII characters");
      }
      rule.prefix = std::string(prefix);
      break;
    }
    if (StartsWithIgnoreCase(*options, "vendor=") && !have_vendor) {
      const std::string_view vendor = SplitOptions(options->substr(7), options);
      if (vendor.empty() || vendor.size() > kMaxVendorLength ||
          !std::all_of(vendor.begin(), vendor.end(), IsAttributeChar)) {
        return Error::InvalidArgument("MAC rule: vendor must be 1 to 64 of [A-Za-z0-9._-]");
      }
      rule.vendor = std::string(vendor);
      have_vendor = true;
      continue;
    }
    return Error::InvalidArgument("MAC rule: unexpected '" + std::string(*options) +
                                  "' (options are vendor=NAME and prefix=TEXT, prefix last)");
  }
  return rule;
}

std::vector<MacRule> DefaultMacRules() {
  return {
      {"", MacSource::kSubjectAttribute, "CN", ""},      {"", MacSource::kSubjectAttribute, "serialNumber", ""},
      {"cisco", MacSource::kSubjectAttribute, "ST", ""}, {"", MacSource::kSanDns, "", ""},
      {"", MacSource::kSanUri, "", "urn:dev:mac:"},
  };
}

Result<CertIdentity> ExtractIdentity(X509* cert, const std::vector<MacRule>& rules) {
  if (cert == nullptr) return Error::InvalidArgument("no certificate");

  // Parsed lazily: most device certs match a subject rule and never need it.
  GeneralNamesPtr san;
  bool san_loaded = false;
  std::optional<core::MacAddress> mac;
  const MacRule* matched = nullptr;
  for (const MacRule& rule : rules) {
    if (rule.source == MacSource::kSubjectAttribute) {
      mac = MacFromSubject(cert, rule);
    } else {
      if (!san_loaded) {
        san_loaded = true;
        int critical = 0;
        san.reset(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, nullptr)));
        ERR_clear_error();
      }
      mac = MacFromSan(san.get(), rule);
    }
    if (mac) {
      matched = &rule;
      break;
    }
  }
  if (!mac) return Error::NotFound("no MAC rule matched the certificate");

  auto not_after = internal::UnixTime(X509_get0_notAfter(cert));
  std::string cert_sha256 = CertSha256(cert);
  std::string spki_sha256 = SpkiSha256(cert);
  if (!not_after || cert_sha256.empty() || spki_sha256.empty()) {
    ERR_clear_error();
    return Error::InvalidArgument("certificate validity or encoding is unusable");
  }
  return CertIdentity{
      .mac = std::move(*mac),
      .subject = NameOneLine(X509_get_subject_name(cert)),
      .issuer = NameOneLine(X509_get_issuer_name(cert)),
      .cert_sha256 = std::move(cert_sha256),
      .spki_sha256 = std::move(spki_sha256),
      .matched_rule = matched->Describe(),
      .not_after = *not_after,
  };
}

Result<CertIdentity> PeerIdentity(SSL* ssl, const std::vector<MacRule>& rules, std::int64_t now) {
  X509* cert = ssl != nullptr ? SSL_get0_peer_certificate(ssl) : nullptr;
  if (cert == nullptr) return Error::NotFound("no client certificate");
  PG_TRY(auto identity, ExtractIdentity(cert, rules));
  if (now > identity.not_after) {
    return Error::FailedPrecondition("certificate expired since its TLS session began");
  }
  return identity;
}

std::string SubjectOneLine(X509* cert) {
  if (cert == nullptr) return {};
  return NameOneLine(X509_get_subject_name(cert));
}

}  // namespace provgate::tls
