#include "pipeline/render_cache.hpp"

#include <string_view>

#include "base/decimal.hpp"

namespace provgate::pipeline {

// File names hold no NUL (file_name.cpp), so the keys cannot collide.
void RenderCache::DeviceKey(std::string& key, const core::MacAddress& mac, std::string_view file_name) {
  key.assign("d");
  key += '\0';
  key += mac.str();
  key += '\0';
  key += file_name;
}

void RenderCache::CommonKey(std::string& key, std::int64_t tenant_id, const std::string& vendor,
                            const std::string& model, std::string_view file_name) {
  const Decimal id(tenant_id);
  key.assign("c");
  for (const std::string_view part : {id.view(), std::string_view(vendor), std::string_view(model), file_name}) {
    key += '\0';
    key += part;
  }
}

bool RenderCache::Find(const std::string& key, std::uint64_t generation, std::string& body) {
  std::lock_guard lock(mu_);
  const std::string* held = files_.Find(key, generation);
  ++(held != nullptr ? stats_.hits : stats_.misses);
  if (held == nullptr) return false;
  body.assign(*held);
  return true;
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
