#include "tls/verified_cache.hpp"

#include <gtest/gtest.h>

namespace provgate::tls {
namespace {

VerifiedCertCache::Key KeyOf(unsigned n) {
  VerifiedCertCache::Key k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>((n >> (8 * (i % 4))) & 0xff);
  return k;
}

TEST(VerifiedCertCache, HonoursAnEntryOnlyInsideItsValidity) {
  VerifiedCertCache cache(16);
  const auto key = KeyOf(1);
  EXPECT_FALSE(cache.Contains(key, 1500));  // never verified
  cache.Insert(key, 1000, 2000);
  EXPECT_TRUE(cache.Contains(key, 1000));
  EXPECT_TRUE(cache.Contains(key, 2000));
  EXPECT_FALSE(cache.Contains(key, 999));   // not yet valid
  EXPECT_FALSE(cache.Contains(key, 2001));  // expired since it was verified
  EXPECT_FALSE(cache.Contains(KeyOf(2), 1500));
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.misses(), 4u);
}

TEST(VerifiedCertCache, StaysBoundedAndKeepsEntriesInUse) {
  VerifiedCertCache cache(100);
  cache.Insert(KeyOf(0), 0, 10);
  for (unsigned i = 1; i < 1000; ++i) {
    cache.Insert(KeyOf(i), 0, 10);
    ASSERT_TRUE(cache.Contains(KeyOf(0), 5)) << i;  // a phone that keeps reconnecting stays
    ASSERT_LE(cache.size(), 101u);
  }
  EXPECT_FALSE(cache.Contains(KeyOf(1), 5));  // long since dropped
  EXPECT_TRUE(cache.Contains(KeyOf(999), 5));
}

}  // namespace
}  // namespace provgate::tls
