// Where bans persist, so they survive restarts and are shared by every node on the same
// database. The SQLite/PostgreSQL stores implement this; MemoryBanStore serves tests and
// single-process tools.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace provgate::defense {

struct Ban {
  std::string source;        // canonical CIDR text, net::Cidr::ToString(): "192.0.2.7/32"
  std::string reason;        // e.g. "scan: 20 distinct unknown MACs in 600 s"
  std::int64_t created = 0;  // unix seconds
  std::int64_t expires = 0;  // unix seconds; banned while now < expires
  int offence_count = 1;     // 1 for a first offence; drives the exponential growth

  friend bool operator==(const Ban&, const Ban&) = default;
};

class BanStore {
 public:
  virtual ~BanStore() = default;
  // Insert or replace the ban of `ban.source` (one row per source). Thread-safe.
  virtual Status SaveBan(const Ban& ban) = 0;
  // Bans with expires > now, in any order. Thread-safe.
  virtual Result<std::vector<Ban>> LoadActiveBans(std::int64_t now) = 0;
  // kNotFound when no ban has this source. Thread-safe.
  virtual Status RemoveBan(const std::string& source) = 0;
};

class MemoryBanStore final : public BanStore {
 public:
  Status SaveBan(const Ban& ban) override {
    std::lock_guard lock(mu_);
    bans_[ban.source] = ban;
    return Ok();
  }
  Result<std::vector<Ban>> LoadActiveBans(std::int64_t now) override {
    std::lock_guard lock(mu_);
    std::vector<Ban> out;
    for (const auto& [source, ban] : bans_) {
      if (ban.expires > now) out.push_back(ban);
    }
    return out;
  }
  Status RemoveBan(const std::string& source) override {
    std::lock_guard lock(mu_);
    if (bans_.erase(source) == 0) return Error::NotFound("no ban for " + source);
    return Ok();
  }

 private:
  std::mutex mu_;
  std::map<std::string, Ban> bans_;
};

}  // namespace provgate::defense
