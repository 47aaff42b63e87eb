// Rendered files (before any encryption), kept while the data they were rendered from is
// unchanged (store::ProvenReads::DataGeneration, read before the request's first store read): a
// phone fetching a file again, or its next file on a keep-alive connection, costs no
// template context and no rendering. Never holds a file that carried a SIP password.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/mac_address.hpp"
#include "store/generation_map.hpp"

namespace provgate::pipeline {

class RenderCache {
 public:
  // At most `max_files` files and kBytesPerFile times as many bytes (or one file, when it is
  // larger than that); when either would be exceeded the cache starts empty again. A file
  // larger than kMaxFileBytes is not kept.
  static constexpr size_t kBytesPerFile = 4096;
  static constexpr size_t kMaxFileBytes = 64 * 1024;
  explicit RenderCache(size_t max_files, std::chrono::steady_clock::duration max_age = store::kCacheMaxAge)
      : files_(max_files, max_age), max_bytes_(max_files * kBytesPerFile) {}

  // A device file depends on the device, its tenant and lines; a common file on the tenant,
  // the vendor and the model only, so the devices of one model share it. Both replace what
  // `key` held, reusing its memory.
  static void DeviceKey(std::string& key, const core::MacAddress& mac, std::string_view file_name);
  static void CommonKey(std::string& key, std::int64_t tenant_id, const std::string& vendor, const std::string& model,
                        std::string_view file_name);

  // Copies the file into `body` (replacing what it held, reusing its memory) when held.
  bool Find(const std::string& key, std::uint64_t generation, std::string& body);
  void Put(const std::string& key, const std::string& body, std::uint64_t generation);

  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
  };
  Stats stats() const;

 private:
  mutable std::mutex mu_;
  store::GenerationMap<std::string, std::string> files_;
  const size_t max_bytes_;
  size_t bytes_ = 0;  // of the bodies held
  Stats stats_;
};

}  // namespace provgate::pipeline
