#include "pipeline/render_cache.hpp"

namespace provgate::pipeline {

// File names hold no NUL (file_name.cpp), so the keys cannot collide.
std::string RenderCache::DeviceKey(const core::MacAddress& mac, const std::string& file_name) {
  std::string key = "d";
  key += '\0';
  key += mac.str();
  key += '\0';
  key += file_name;
  return key;
}

std::string RenderCache::CommonKey(std::int64_t tenant_id, const std::string& vendor,
                                   const std::string& model, const std::string& file_name) {
  std::string key = "c";
  for (const std::string& part : {std::to_string(tenant_id), vendor, model, file_name}) {
    key += '\0';
    key += part;
  }
  return key;
}

std::optional<std::string> RenderCache::Find(const std::string& key, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  const std::string* body = files_.Find(key, generation);
  ++(body != nullptr ? stats_.hits : stats_.misses);
  if (body == nullptr) return std::nullopt;
  return *body;
}

void RenderCache::Put(const std::string& key, const std::string& body, std::uint64_t generation) {
  if (body.size() > kMaxFileBytes) return;
  std::lock_guard lock(mu_);
  const std::string* old = files_.FindAny(key);
  const size_t old_size = old != nullptr ? old->size() : 0;
  if (bytes_ - old_size + body.size() > max_bytes_) {
    files_.Clear();
    bytes_ = 0;
  }
  using Put = store::GenerationMap<std::string, std::string>::Put;
  switch (files_.Insert(key, body, generation)) {
    case Put::kAdded: bytes_ += body.size(); break;
    case Put::kReplaced: bytes_ += body.size() - old_size; break;
    case Put::kStartedOver: bytes_ = body.size(); break;
    case Put::kRefused: break;
  }
}

RenderCache::Stats RenderCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace provgate::pipeline
