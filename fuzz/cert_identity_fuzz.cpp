// Hostile DER certificates through the identity extractor. In production the chain is
// verified first, but ExtractIdentity must not rely on that.
#include <openssl/err.h>
#include <openssl/x509.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "tls/cert_identity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using provgate::tls::MacRule;
  static const std::vector<MacRule> rules = [] {
    auto r = provgate::tls::DefaultMacRules();
    r.push_back(provgate::tls::ParseMacRule("san:dns:prefix=SEP").value());
    r.push_back(provgate::tls::ParseMacRule("subject:OU:prefix=mac-").value());
    return r;
  }();
  if (size > static_cast<size_t>(LONG_MAX)) return 0;
  const unsigned char* p = data;
  std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, static_cast<long>(size)), &X509_free);
  if (cert) {
    auto id = provgate::tls::ExtractIdentity(cert.get(), rules);
    if (id && (id->mac.str().size() != 12 || id->cert_sha256.size() != 64 || id->spki_sha256.size() != 64 ||
               id->matched_rule.empty())) {
      std::abort();
    }
    static_cast<void>(provgate::tls::SubjectOneLine(cert.get()));
  }
  ERR_clear_error();
  return 0;
}
