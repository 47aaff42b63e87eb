#include "pipeline/render_cache.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace provgate::pipeline {
namespace {

const core::MacAddress kMac = core::MacAddress::Parse("001565aabbcc").value();

std::string DeviceKey(const core::MacAddress& mac, const std::string& file_name) {
  std::string key = "left over from the previous request";
  RenderCache::DeviceKey(key, mac, file_name);
  return key;
}

std::string CommonKey(std::int64_t tenant, const std::string& vendor, const std::string& model,
                      const std::string& file_name) {
  std::string key = "left over from the previous request";
  RenderCache::CommonKey(key, tenant, vendor, model, file_name);
  return key;
}

std::optional<std::string> Find(RenderCache& cache, const std::string& key, std::uint64_t generation) {
  std::string body = "left over from the previous response";
  if (!cache.Find(key, generation, body)) return std::nullopt;
  return body;
}

TEST(RenderCache, KeepsAFileAtItsGeneration) {
  RenderCache cache(10);
  const auto key = DeviceKey(kMac, "001565aabbcc.cfg");
  cache.Put(key, "body", 7);
  EXPECT_EQ(Find(cache, key, 7), "body");
  EXPECT_FALSE(Find(cache, key, 8));
  EXPECT_FALSE(Find(cache, DeviceKey(kMac, "other.cfg"), 7));
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(RenderCache, KeysOfDeviceAndCommonFilesNeverMeet) {
  EXPECT_NE(CommonKey(1, "yealink", "T54W", "a.cfg"), CommonKey(1, "yealink", "T54", "Wa.cfg"));
  EXPECT_NE(CommonKey(1, "yealink", "T54W", "a.cfg"), CommonKey(11, "yealink", "T54W", "a.cfg"));
  EXPECT_NE(DeviceKey(kMac, "a.cfg").substr(0, 1), CommonKey(1, "y", "m", "a.cfg").substr(0, 1));
}

TEST(RenderCache, BytesAreBounded) {
  RenderCache cache(2);  // 2 files, 8 KB
  cache.Put("a", std::string(RenderCache::kMaxFileBytes + 1, 'x'), 1);
  EXPECT_FALSE(Find(cache, "a", 1));  // too large to keep
  cache.Put("b", std::string(5000, 'b'), 1);
  cache.Put("c", std::string(5000, 'c'), 1);  // 10 000 bytes > 8 KB: started over
  EXPECT_FALSE(Find(cache, "b", 1));
  EXPECT_TRUE(Find(cache, "c", 1));
}

// A file replaced at each new generation counts once, not once per replacement.
TEST(RenderCache, ReplacingAFileKeepsTheByteCountExact) {
  RenderCache cache(3);  // 12 KB
  cache.Put("b", std::string(4000, 'b'), 1);
  for (std::uint64_t generation = 1; generation <= 10; ++generation) {
    cache.Put("a", std::string(4000, 'a'), generation);
  }
  EXPECT_TRUE(Find(cache, "b", 1));
  EXPECT_TRUE(Find(cache, "a", 10));
}

TEST(RenderCache, EntriesExpire) {
  RenderCache cache(10, std::chrono::milliseconds(0));
  cache.Put("a", "body", 1);
  EXPECT_FALSE(Find(cache, "a", 1));
}

}  // namespace
}  // namespace provgate::pipeline
