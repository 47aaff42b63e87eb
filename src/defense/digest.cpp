#include "defense/digest.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "crypto/random.hpp"
#include "net/http_token.hpp"

namespace provgate::defense {
namespace {

constexpr size_t kMaxParams = 32;
constexpr size_t kNonceRawBytes = 8 + 8 + 16;  // time, random, truncated MAC
constexpr size_t kNonceMacBytes = 16;

std::string HashHex(DigestAlgorithm algorithm, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  const EVP_MD* type = algorithm == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_md5();
  // One-shot EVP_Digest owns no handle; it fails only without a provider for the algorithm,
  // which would make every credential unverifiable: refuse to run rather than accept.
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, type, nullptr) != 1) std::abort();
  return crypto::HexEncode(md.data(), len);
}

size_t HexLength(DigestAlgorithm a) { return a == DigestAlgorithm::kSha256 ? 64 : 32; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsCtl(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Splits "Scheme rest": the scheme must match case-insensitively and be followed by spaces.
std::optional<std::string_view> StripScheme(std::string_view value, std::string_view scheme) {
  if (value.size() <= scheme.size() || !EqualsNoCase(value.substr(0, scheme.size()), scheme) ||
      value[scheme.size()] != ' ') {
    return std::nullopt;
  }
  value.remove_prefix(scheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return value;
}

// auth-param *( OWS "," OWS auth-param ), values token or quoted-string.
Result<std::vector<std::pair<std::string, std::string>>> ParseAuthParams(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  auto skip_ows = [&] {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
  };
  for (;;) {
    skip_ows();
    const size_t name_start = pos;
    while (pos < s.size() && net::IsHttpTokenChar(s[pos])) ++pos;
    if (pos == name_start) return Error::InvalidArgument("expected parameter name");
    std::string name(s.substr(name_start, pos - name_start));
    std::transform(name.begin(), name.end(), name.begin(), Lower);
    skip_ows();
    if (pos >= s.size() || s[pos] != '=') return Error::InvalidArgument("expected '='");
    ++pos;
    skip_ows();
    std::string value;
    if (pos < s.size() && s[pos] == '"') {
      ++pos;
      for (;;) {
        if (pos >= s.size()) return Error::InvalidArgument("unterminated quoted string");
        auto c = static_cast<unsigned char>(s[pos++]);
        if (c == '"') break;
        if (c == '\\') {
          if (pos >= s.size()) return Error::InvalidArgument("dangling escape");
          c = static_cast<unsigned char>(s[pos++]);
        }
        if (IsCtl(c) && c != '\t') return Error::InvalidArgument("control character");
        value.push_back(static_cast<char>(c));
      }
    } else {
      const size_t v_start = pos;
      while (pos < s.size() && net::IsHttpTokenChar(s[pos])) ++pos;
      if (pos == v_start) return Error::InvalidArgument("empty parameter value");
      value.assign(s.substr(v_start, pos - v_start));
    }
    for (const auto& p : params) {
      if (p.first == name) return Error::InvalidArgument("duplicate parameter " + name);
    }
    if (params.size() >= kMaxParams) return Error::InvalidArgument("too many parameters");
    params.emplace_back(std::move(name), std::move(value));
    skip_ows();
    if (pos == s.size()) return params;
    if (s[pos] != ',') return Error::InvalidArgument("expected ','");
    ++pos;
  }
}

std::string QuoteEscaped(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void StoreBe64(unsigned char* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

std::uint64_t LoadBe64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

std::int64_t NowMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch()).count();
}

}  // namespace

std::string_view DigestAlgorithmName(DigestAlgorithm a) { return a == DigestAlgorithm::kSha256 ? "SHA-256" : "MD5"; }

std::string ComputeHa1(DigestAlgorithm algorithm, std::string_view user, std::string_view realm,
                       std::string_view password) {
  std::string material;
  material.reserve(user.size() + realm.size() + password.size() + 2);
  material.append(user).append(":").append(realm).append(":").append(password);
  std::string ha1 = HashHex(algorithm, material);
  sodium_memzero(material.data(), material.size());
  return ha1;
}

std::string ComputeDigestResponse(DigestAlgorithm algorithm, std::string_view ha1_hex, std::string_view nonce,
                                  std::string_view nc_text, std::string_view cnonce, std::string_view method,
                                  std::string_view uri) {
  std::string a2;
  a2.append(method).append(":").append(uri);
  std::string material;
  material.append(ha1_hex).append(":").append(nonce).append(":").append(nc_text);
  material.append(":").append(cnonce).append(":auth:").append(HashHex(algorithm, a2));
  std::string response = HashHex(algorithm, material);
  // The material holds HA1, a password equivalent.
  sodium_memzero(material.data(), material.size());
  return response;
}

const std::string& DummyHa1(DigestAlgorithm algorithm) {
  static const std::string sha256 = [] {
    const auto b = crypto::RandomBytes(32);
    return crypto::HexEncode(b.data(), b.size());
  }();
  static const std::string md5 = [] {
    const auto b = crypto::RandomBytes(16);
    return crypto::HexEncode(b.data(), b.size());
  }();
  return algorithm == DigestAlgorithm::kSha256 ? sha256 : md5;
}

Result<DigestCredentials> ParseDigestAuthorization(std::string_view header_value) {
  if (header_value.size() > kMaxAuthorizationBytes) {
    return Error::InvalidArgument("authorization header too long");
  }
  const auto rest = StripScheme(header_value, "Digest");
  if (!rest) return Error::InvalidArgument("not a Digest authorization");
  PG_TRY(auto params, ParseAuthParams(*rest));

  DigestCredentials c;
  bool have_user = false, have_realm = false, have_nonce = false, have_uri = false, have_response = false,
       have_cnonce = false, have_nc = false, have_qop = false;
  std::string algorithm = "MD5";
  for (auto& [name, value] : params) {
    if (name == "username") {
      c.username = std::move(value);
      have_user = true;
    } else if (name == "realm") {
      c.realm = std::move(value);
      have_realm = true;
    } else if (name == "nonce") {
      c.nonce = std::move(value);
      have_nonce = true;
    } else if (name == "uri") {
      c.uri = std::move(value);
      have_uri = true;
    } else if (name == "response") {
      c.response = std::move(value);
      std::transform(c.response.begin(), c.response.end(), c.response.begin(), Lower);
      have_response = true;
    } else if (name == "cnonce") {
      c.cnonce = std::move(value);
      have_cnonce = true;
    } else if (name == "algorithm") {
      algorithm = std::move(value);
    } else if (name == "qop") {
      if (value != "auth") return Error::InvalidArgument("qop must be auth");
      have_qop = true;
    } else if (name == "nc") {
      if (value.size() != 8) return Error::InvalidArgument("nc must be 8 hex digits");
      std::uint32_t nc = 0;
      for (char ch : value) {
        const char l = Lower(ch);
        const bool digit = l >= '0' && l <= '9';
        if (!digit && !(l >= 'a' && l <= 'f')) return Error::InvalidArgument("nc is not hex");
        nc = (nc << 4) | static_cast<std::uint32_t>(digit ? l - '0' : l - 'a' + 10);
      }
      if (nc == 0) return Error::InvalidArgument("nc must not be zero");
      c.nc = nc;
      c.nc_text = std::move(value);
      have_nc = true;
    } else if (name == "userhash") {
      if (!EqualsNoCase(value, "false")) return Error::InvalidArgument("userhash not offered");
    } else if (name == "username*") {
      return Error::InvalidArgument("username* not supported");
    }
  }
  if (!have_user || !have_realm || !have_nonce || !have_uri || !have_response) {
    return Error::InvalidArgument("digest parameter missing");
  }
  if (!have_qop || !have_nc || !have_cnonce) {
    return Error::InvalidArgument("qop=auth with nc and cnonce required");
  }
  if (EqualsNoCase(algorithm, "SHA-256")) {
    c.algorithm = DigestAlgorithm::kSha256;
  } else if (EqualsNoCase(algorithm, "MD5")) {
    c.algorithm = DigestAlgorithm::kMd5;
  } else {
    return Error::InvalidArgument("unsupported digest algorithm");
  }
  if (c.response.size() != HexLength(c.algorithm) || !IsLowerHex(c.response)) {
    return Error::InvalidArgument("response is not a digest of the algorithm");
  }
  if (c.username.empty() || c.nonce.empty() || c.uri.empty() || c.cnonce.empty()) {
    return Error::InvalidArgument("empty digest parameter");
  }
  return c;
}

Result<BasicCredentials> ParseBasicAuthorization(std::string_view header_value) {
  if (header_value.size() > kMaxAuthorizationBytes) {
    return Error::InvalidArgument("authorization header too long");
  }
  const auto rest = StripScheme(header_value, "Basic");
  if (!rest || rest->empty()) return Error::InvalidArgument("not a Basic authorization");
  std::string decoded(rest->size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), rest->data(), rest->size(),
                        nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != rest->data() + rest->size()) {
    return Error::InvalidArgument("bad base64 in Basic authorization");
  }
  decoded.resize(len);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) {
    return Error::InvalidArgument("Basic credentials need user:password");
  }
  for (char ch : decoded) {
    if (IsCtl(static_cast<unsigned char>(ch))) {
      return Error::InvalidArgument("control character in Basic credentials");
    }
  }
  BasicCredentials out{decoded.substr(0, colon), decoded.substr(colon + 1)};
  sodium_memzero(decoded.data(), decoded.size());
  return out;
}

bool VerifyBasic(const BasicCredentials& credentials, std::string_view realm, DigestAlgorithm algorithm,
                 std::string_view ha1_hex) {
  const std::string computed = ComputeHa1(algorithm, credentials.user, realm, credentials.password);
  return crypto::ConstantTimeEquals(computed, ha1_hex);
}

struct NonceManager::Decoded {
  std::int64_t issued_ms = 0;
  std::uint64_t random = 0;
};

NonceManager::NonceManager(const Clock& clock, NonceManagerOptions options) : clock_(clock), options_(options) {
  const auto k = crypto::RandomBytes(kKeySize);
  std::copy(k.begin(), k.end(), key_.begin());
}

NonceManager::NonceManager(const Clock& clock, NonceManagerOptions options,
                           const std::array<unsigned char, kKeySize>& key)
    : clock_(clock), options_(options), key_(key) {}

NonceManager::~NonceManager() { sodium_memzero(key_.data(), key_.size()); }

std::string NonceManager::Issue(std::string_view realm) {
  std::array<unsigned char, kNonceRawBytes> raw{};
  StoreBe64(raw.data(), static_cast<std::uint64_t>(NowMs(clock_)));
  randombytes_buf(raw.data() + 8, 8);
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key_.data(), key_.size());
  crypto_auth_hmacsha256_update(&st, raw.data(), 16);
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(realm.data()), realm.size());
  crypto_auth_hmacsha256_final(&st, mac.data());
  std::copy(mac.begin(), mac.begin() + kNonceMacBytes, raw.begin() + 16);
  std::array<char, 64> text{};
  sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string(text.data());
}

std::optional<NonceManager::Decoded> NonceManager::Decode(std::string_view nonce, std::string_view realm) const {
  // 32 bytes are 43 base64url characters without padding.
  if (nonce.size() != 43) return std::nullopt;
  std::array<unsigned char, kNonceRawBytes> raw{};
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(raw.data(), raw.size(), nonce.data(), nonce.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      len != raw.size() || end != nonce.data() + nonce.size()) {
    return std::nullopt;
  }
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key_.data(), key_.size());
  crypto_auth_hmacsha256_update(&st, raw.data(), 16);
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(realm.data()), realm.size());
  crypto_auth_hmacsha256_final(&st, mac.data());
  if (crypto_verify_16(mac.data(), raw.data() + 16) != 0) return std::nullopt;
  return Decoded{static_cast<std::int64_t>(LoadBe64(raw.data())), LoadBe64(raw.data() + 8)};
}

NonceCheck NonceManager::Check(std::string_view nonce, std::string_view realm) const {
  const auto d = Decode(nonce, realm);
  if (!d) return NonceCheck::kInvalid;
  const std::int64_t now = NowMs(clock_);
  const std::int64_t lifetime_ms = options_.lifetime.count() * 1000;
  // A nonce from the future is ours (the MAC says so) but the clock moved: re-challenge.
  if (d->issued_ms > now || now - d->issued_ms >= lifetime_ms) return NonceCheck::kStale;
  std::lock_guard lock(mu_);
  if (std::pair(d->issued_ms, d->random) <= forgotten_up_to_) return NonceCheck::kStale;
  return NonceCheck::kValid;
}

NonceCheck NonceManager::Use(std::string_view nonce, std::string_view realm, std::uint32_t nc) {
  const NonceCheck check = Check(nonce, realm);
  if (check != NonceCheck::kValid) return check;
  const auto d = Decode(nonce, realm);
  const auto key = std::pair(d->issued_ms, d->random);
  std::lock_guard lock(mu_);
  PruneLocked(NowMs(clock_));
  if (key <= forgotten_up_to_) return NonceCheck::kStale;
  auto it = used_.find(key);
  if (it != used_.end()) {
    if (nc <= it->second) return NonceCheck::kReplay;
    it->second = nc;
    return NonceCheck::kValid;
  }
  while (!used_.empty() && used_.size() >= options_.max_tracked) {
    forgotten_up_to_ = std::max(forgotten_up_to_, used_.begin()->first);
    used_.erase(used_.begin());
  }
  if (key <= forgotten_up_to_ || options_.max_tracked == 0) return NonceCheck::kStale;
  used_.emplace(key, nc);
  return NonceCheck::kValid;
}

void NonceManager::PruneLocked(std::int64_t now_ms) {
  // Expired nonces are refused by age, so their replay state is no longer needed.
  const std::int64_t lifetime_ms = options_.lifetime.count() * 1000;
  while (!used_.empty() && now_ms - used_.begin()->first.first >= lifetime_ms) {
    used_.erase(used_.begin());
  }
}

size_t NonceManager::tracked() const {
  std::lock_guard lock(mu_);
  return used_.size();
}

namespace {

// What a nonce's MAC covers besides its time and randomness: the realm and the channel.
std::string NonceScope(std::string_view realm, Channel channel) {
  std::string scope(realm);
  scope += channel == Channel::kTls ? std::string_view("\0tls", 4) : std::string_view("\0plain", 6);
  return scope;
}

}  // namespace

std::vector<std::string> Challenge(NonceManager& nonces, std::string_view realm, Channel channel,
                                   const std::vector<DigestAlgorithm>& algorithms, bool stale) {
  const std::string nonce = nonces.Issue(NonceScope(realm, channel));
  std::vector<std::string> out;
  out.reserve(algorithms.size());
  for (DigestAlgorithm a : algorithms) {
    std::string v = "Digest realm=" + QuoteEscaped(realm) +
                    ", qop=\"auth\", algorithm=" + std::string(DigestAlgorithmName(a)) + ", nonce=\"" + nonce + "\"";
    if (stale) v += ", stale=true";
    out.push_back(std::move(v));
  }
  return out;
}

DigestOutcome VerifyDigest(const DigestCredentials& credentials, const DigestRequest& request, std::string_view ha1_hex,
                           NonceManager& nonces) {
  const auto& allowed = request.allowed_algorithms;
  if (std::find(allowed.begin(), allowed.end(), credentials.algorithm) == allowed.end()) {
    return DigestOutcome::kAlgorithmRefused;
  }
  const DigestAlgorithm alg = credentials.algorithm;
  const std::string expected = ComputeDigestResponse(alg, ha1_hex, credentials.nonce, credentials.nc_text,
                                                     credentials.cnonce, request.method, credentials.uri);
  const bool response_ok = crypto::ConstantTimeEquals(expected, credentials.response);
  // The uri must be the request's own target, or a response captured for one file would
  // open another; the realm must be ours.
  const bool binding_ok = credentials.uri == request.request_target && credentials.realm == request.realm;

  const std::string scope = NonceScope(request.realm, request.channel);
  const NonceCheck check = nonces.Check(credentials.nonce, scope);
  if (check == NonceCheck::kInvalid) return DigestOutcome::kInvalidNonce;
  if (!response_ok || !binding_ok) return DigestOutcome::kBadResponse;
  switch (nonces.Use(credentials.nonce, scope, credentials.nc)) {
    case NonceCheck::kValid: return DigestOutcome::kOk;
    case NonceCheck::kStale: return DigestOutcome::kStaleNonce;
    case NonceCheck::kReplay: return DigestOutcome::kReplayedNonce;
    case NonceCheck::kInvalid: return DigestOutcome::kInvalidNonce;
  }
  return DigestOutcome::kInvalidNonce;
}

}  // namespace provgate::defense
