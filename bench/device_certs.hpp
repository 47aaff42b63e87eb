// On-disk set of simulated devices' certificates, written once by provgate_certgen and
// reused by every benchmark run:
//   manifest.txt        one canonical MAC per line, device i on line i
//   index.tsv           "<bundle file>\t<first device>\t<devices>\t<key type>" per bundle
//   bundle-NNNNN.pem    per device, in order: its certificate then its PKCS#8 key (mode 0600)
// Thousands of devices per bundle keep the directory small and loading fast.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "bench/ossl.hpp"

namespace provgate::bench {

inline constexpr std::uint64_t kDevicesPerBundle = 1000;

// MAC of device i: the 3-byte OUI followed by first + i as 6 hex digits.
// Fails when first + i does not fit the 24 bits below the OUI or the OUI is not 6 hex digits.
Result<std::string> DeviceMac(std::string_view oui, std::uint64_t first, std::uint64_t i);

std::string BundleName(std::uint64_t bundle);

struct Device {
  std::string mac;
  X509Ptr cert;
  EvpPkeyPtr key;
};

// Loads the first `limit` devices (0: all). Checks that every certificate's subject CN is
// the manifest's MAC, so a mixed-up directory fails here instead of as odd 404s under load.
Result<std::vector<Device>> LoadDevices(const std::filesystem::path& dir, std::uint64_t limit);

// Only the MACs, without parsing any PEM.
Result<std::vector<std::string>> LoadManifest(const std::filesystem::path& dir);

}  // namespace provgate::bench
