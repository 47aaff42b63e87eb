#include "defense/bans.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace provgate::defense {

Result<BanPolicy> BanPolicy::Create(BanPolicyOptions options) {
  if (options.base.count() <= 0) return Error::InvalidArgument("ban base duration must be > 0");
  if (!std::isfinite(options.factor) || options.factor < 1.0) {
    return Error::InvalidArgument("ban growth factor must be >= 1");
  }
  if (options.max < options.base) return Error::InvalidArgument("ban max must be >= base");
  if (options.repeat_memory.count() < 0) {
    return Error::InvalidArgument("ban repeat memory must be >= 0");
  }
  return BanPolicy(std::move(options));
}

Seconds BanPolicy::Duration(int offence_count) const {
  const double exponent = std::max(0, offence_count - 1);
  const double seconds = static_cast<double>(options_.base.count()) * std::pow(options_.factor, exponent);
  const auto cap = static_cast<double>(options_.max.count());
  // pow may overflow to inf for long careers; the cap keeps the cast defined.
  return Seconds(static_cast<Seconds::rep>(std::min(seconds, cap)));
}

bool BanPolicy::IsProtected(const net::Cidr& source) const { return options_.allowlist.Overlaps(source); }

BanList::BanList(BanStore& store, BanPolicy policy, size_t max_history)
    : store_(store), policy_(std::move(policy)), max_history_(max_history) {}

Status BanList::Reload(TimePoint now) {
  PG_TRY(auto rows, store_.LoadActiveBans(ToUnix(now)));
  const std::int64_t t = ToUnix(now);
  std::unique_lock lock(mu_);
  std::map<net::Cidr, Ban> fresh;
  for (auto& ban : rows) {
    // A row a future version wrote in a form we cannot read is skipped, not fatal: the other
    // bans must still apply.
    auto cidr = net::Cidr::Parse(ban.source);
    if (!cidr) continue;
    ban.source = cidr->ToString();
    fresh[*cidr] = std::move(ban);
  }
  // Active bans the store no longer has were lifted elsewhere; expired ones stay as history.
  for (auto it = bans_.begin(); it != bans_.end();) {
    if (it->second.expires > t && !fresh.contains(it->first)) {
      if (--prefixes_[{it->first.family(), it->first.prefix_length()}] == 0) {
        prefixes_.erase({it->first.family(), it->first.prefix_length()});
      }
      it = bans_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [cidr, ban] : fresh) {
    auto [it, inserted] = bans_.insert_or_assign(cidr, std::move(ban));
    if (inserted) ++prefixes_[{cidr.family(), cidr.prefix_length()}];
  }
  TrimHistoryLocked(t);
  return Ok();
}

Status BanList::SaveLocked(const net::Cidr& source, Ban ban) {
  auto [it, inserted] = bans_.insert_or_assign(source, ban);
  if (inserted) ++prefixes_[{source.family(), source.prefix_length()}];
  // Cached first: if the store is down the ban still protects this node.
  return store_.SaveBan(ban);
}

Result<std::optional<Ban>> BanList::BanSource(const net::Cidr& source, std::string reason, TimePoint now) {
  if (policy_.IsProtected(source)) return std::optional<Ban>();
  const std::int64_t t = ToUnix(now);
  std::unique_lock lock(mu_);
  TrimHistoryLocked(t);
  int offence = 1;
  if (auto it = bans_.find(source); it != bans_.end()) {
    if (it->second.expires > t) return std::optional<Ban>();  // in force: not raised again
    if (t - it->second.expires <= policy_.repeat_memory().count()) {
      offence = it->second.offence_count + 1;
    }
  }
  Ban ban{source.ToString(), std::move(reason), t, t + policy_.Duration(offence).count(), offence};
  PG_TRY_STATUS(SaveLocked(source, ban));
  return std::optional<Ban>(ban);
}

Result<Ban> BanList::AddManual(const net::Cidr& source, std::string reason, Seconds duration, TimePoint now) {
  if (duration.count() <= 0) return Error::InvalidArgument("ban duration must be positive");
  const std::int64_t t = ToUnix(now);
  std::unique_lock lock(mu_);
  int offence = 1;
  if (auto it = bans_.find(source); it != bans_.end()) offence = it->second.offence_count + 1;
  Ban ban{source.ToString(), std::move(reason), t, t + duration.count(), offence};
  PG_TRY_STATUS(SaveLocked(source, ban));
  return ban;
}

Status BanList::Remove(const net::Cidr& source) {
  std::unique_lock lock(mu_);
  bool cached = false;
  if (auto it = bans_.find(source); it != bans_.end()) {
    // Keep it as history (a repeat still grows) but no longer active.
    it->second.expires = std::min(it->second.expires, it->second.created);
    cached = true;
  }
  auto st = store_.RemoveBan(source.ToString());
  if (!st && st.error().code == ErrorCode::kNotFound && cached) return Ok();
  return st;
}

std::optional<Ban> BanList::Find(const net::IpAddress& address, TimePoint now) const {
  const std::int64_t t = ToUnix(now);
  std::shared_lock lock(mu_);
  for (const auto& [key, count] : prefixes_) {
    if (key.first != address.family()) continue;
    auto net = net::Cidr::Of(address, key.second);
    if (!net) continue;
    if (auto it = bans_.find(*net); it != bans_.end() && it->second.expires > t) {
      return it->second;
    }
  }
  return std::nullopt;
}

std::vector<Ban> BanList::List(TimePoint now) const {
  const std::int64_t t = ToUnix(now);
  std::shared_lock lock(mu_);
  std::vector<Ban> out;
  for (const auto& [cidr, ban] : bans_) {
    if (ban.expires > t) out.push_back(ban);
  }
  return out;
}

void BanList::TrimHistoryLocked(std::int64_t now) {
  auto erase = [&](std::map<net::Cidr, Ban>::iterator it) {
    const std::pair key{it->first.family(), it->first.prefix_length()};
    if (--prefixes_[key] == 0) prefixes_.erase(key);
    return bans_.erase(it);
  };
  const std::int64_t memory = policy_.repeat_memory().count();
  std::vector<std::pair<std::int64_t, net::Cidr>> expired;
  for (auto it = bans_.begin(); it != bans_.end();) {
    if (it->second.expires <= now && now - it->second.expires > memory) {
      it = erase(it);
      continue;
    }
    if (it->second.expires <= now) expired.emplace_back(it->second.expires, it->first);
    ++it;
  }
  if (bans_.size() <= max_history_) return;
  // Over the cap: forget the longest-expired first; active bans are never dropped.
  std::sort(expired.begin(), expired.end());
  for (const auto& [expires, cidr] : expired) {
    if (bans_.size() <= max_history_) break;
    erase(bans_.find(cidr));
  }
}

}  // namespace provgate::defense
