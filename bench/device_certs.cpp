#include "bench/device_certs.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace provgate::bench {

Result<std::string> DeviceMac(std::string_view oui, std::uint64_t first, std::uint64_t i) {
  if (oui.size() != 6) return Error::InvalidArgument("OUI must be 6 hex digits");
  for (char c : oui) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Error::InvalidArgument("OUI must be 6 lowercase hex digits");
    }
  }
  const std::uint64_t n = first + i;
  if (n < first || n > 0xffffff) return Error::InvalidArgument("device number exceeds the OUI's 24 bits");
  return fmt::format("{}{:06x}", oui, n);
}

std::string BundleName(std::uint64_t bundle) { return fmt::format("bundle-{:05d}.pem", bundle); }

Result<std::vector<std::string>> LoadManifest(const std::filesystem::path& dir) {
  std::ifstream in(dir / "manifest.txt");
  if (!in) return Error::NotFound("no manifest.txt in " + dir.string());
  std::vector<std::string> macs;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) macs.push_back(line);
  }
  if (macs.empty()) return Error::InvalidArgument(dir.string() + "/manifest.txt is empty");
  return macs;
}

namespace {

Result<std::string> SubjectCn(X509* cert) {
  const X509_NAME* name = X509_get_subject_name(cert);
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return Error::InvalidArgument("certificate without subject CN");
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

}  // namespace

Result<std::vector<Device>> LoadDevices(const std::filesystem::path& dir, std::uint64_t limit) {
  PG_TRY(auto macs, LoadManifest(dir));
  const std::uint64_t wanted = limit == 0 ? macs.size() : std::min<std::uint64_t>(limit, macs.size());
  if (limit > macs.size()) {
    return Error::InvalidArgument(fmt::format("{} has {} devices, {} requested", dir.string(), macs.size(), limit));
  }
  std::vector<Device> devices;
  devices.reserve(wanted);
  for (std::uint64_t b = 0; devices.size() < wanted; ++b) {
    const auto path = dir / BundleName(b);
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) return Error::NotFound("cannot open " + path.string() + ": " + DrainErrors());
    while (devices.size() < wanted) {
      X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
      if (!cert) {
        // End of this bundle (PEM_R_NO_START_LINE) or a damaged file.
        const unsigned long err = ERR_peek_last_error();
        ERR_clear_error();
        if (ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
        return Error::InvalidArgument("damaged certificate in " + path.string());
      }
      EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
      if (!key) return Error::InvalidArgument("certificate without key in " + path.string());
      const std::string& mac = macs[devices.size()];
      PG_TRY(auto cn, SubjectCn(cert.get()));
      if (cn != mac) {
        return Error::InvalidArgument(
            fmt::format("{}: device {} has CN {}, manifest says {}", path.string(), devices.size(), cn, mac));
      }
      devices.push_back(Device{mac, std::move(cert), std::move(key)});
    }
    if (b > macs.size()) return Error::InvalidArgument("bundles hold fewer devices than the manifest");
  }
  return devices;
}

}  // namespace provgate::bench
