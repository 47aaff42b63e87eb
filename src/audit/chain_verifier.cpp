#include "audit/chain_verifier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "crypto/signing_key.hpp"

namespace provgate::audit {
namespace {

// What the verifier reads of a line.
struct ChainedRecord {
  std::string id;
  std::int64_t n = 0;
  std::string link;
  std::string kind;
  bool server = false;
  // A checkpoint's detail.head, detail.key and detail.signature; empty when absent.
  std::string head, key, signature;
  SealedLine sealed;
};

enum class LineKind { kChained, kUnchained, kCut, kMalformed };

LineKind Read(std::string_view line, ChainedRecord& out) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return line.ends_with('}') ? LineKind::kMalformed : LineKind::kCut;
  const auto sealed = SplitSealedLine(line);
  const auto id = j.find("chain_id");
  const auto n = j.find("chain_n");
  if (!sealed && id == j.end() && n == j.end()) return LineKind::kUnchained;
  if (!sealed || id == j.end() || !id->is_string() || n == j.end() || !n->is_number_unsigned() ||
      n->get<std::uint64_t>() == 0 || n->get<std::uint64_t>() >= INT64_MAX) {
    return LineKind::kMalformed;
  }
  out.sealed = *sealed;
  out.id = id->get<std::string>();
  out.n = n->get<std::int64_t>();
  const auto text = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  out.link = text("chain_link");
  out.kind = text("kind");
  out.server = j.contains("run");
  // Only the strings a checkpoint needs: a detail of any depth is never copied.
  if (const auto it = j.find("detail"); it != j.end() && it->is_object()) {
    const auto field = [&](const char* key) {
      const auto f = it->find(key);
      return f != it->end() && f->is_string() ? f->get<std::string>() : std::string();
    };
    out.head = field("head");
    out.key = field("key");
    out.signature = field("signature");
  }
  return LineKind::kChained;
}

std::uint64_t HashPrefix(std::string_view hash) {
  std::uint64_t v = 0;
  std::from_chars(hash.data(), hash.data() + std::min<size_t>(16, hash.size()), v, 16);
  return v;
}

std::string Short(std::string_view hash) { return std::string(hash.substr(0, 16)); }

}  // namespace

size_t VerifyReport::errors() const {
  return static_cast<size_t>(std::count_if(findings.begin(), findings.end(),
                                           [](const Finding& f) { return f.severity == Finding::Severity::kError; }));
}

ChainVerifier::ChainVerifier(VerifyOptions options) : options_(std::move(options)) {}

void ChainVerifier::Error(std::int64_t where, std::string message) {
  report_.findings.push_back({Finding::Severity::kError, where, std::move(message)});
}

void ChainVerifier::Warn(std::int64_t where, std::string message) {
  report_.findings.push_back({Finding::Severity::kWarning, where, std::move(message)});
}

std::string ChainVerifier::At(std::int64_t where) const { return fmt::format("{} {}", options_.unit, where); }

void ChainVerifier::Add(std::int64_t where, std::string_view line) {
  if (line.empty()) return;
  ChainedRecord r;
  switch (Read(line, r)) {
    case LineKind::kCut:
      Warn(where, "an incomplete line: a record cut short by a crash while it was written (or edited)");
      return;
    case LineKind::kMalformed: Error(where, "not a well-formed chained record: edited or corrupted"); return;
    case LineKind::kUnchained:
      if (report_.records > 0) {
        Error(where, "a record without a chain after chained records: inserted, or its chain fields removed");
      } else {
        ++report_.unchained;
      }
      return;
    case LineKind::kChained: break;
  }
  ++report_.records;
  seen_hashes_.insert(HashPrefix(r.sealed.hash));
  auto [it, added] = chains_.try_emplace(r.id);
  Chain& chain = it->second;
  if (added) {
    chain.id = r.id;
    order_.push_back(r.id);
  }
  if (r.n == chain.next) {
    Accept(chain, where, line);
    Drain(chain);
  } else if (r.n > chain.next) {
    if (!chain.held.try_emplace(r.n, Held{where, std::string(line)}).second) {
      Error(where, fmt::format("record {} of chain {} appears twice: duplicated or replayed", r.n, chain.id));
    }
    if (chain.held.size() > kMaxHeld) {
      SkipGap(chain);
      Drain(chain);
    }
  } else {
    Error(where, fmt::format("record {} of chain {} appears again after record {} ({}): duplicated or replayed", r.n,
                             chain.id, chain.next - 1, At(chain.head_where)));
  }
}

void ChainVerifier::Accept(Chain& chain, std::int64_t where, std::string_view line) {
  ChainedRecord r;
  Read(line, r);
  std::string_view previous = chain.head;
  bool check = chain.head_known;
  if (r.n == 1) {
    previous = r.link;
    check = true;
    if (!r.link.empty()) {
      links_.push_back({where, chain.id, r.link});
    } else if (report_.records > 1 && where > 1) {
      Warn(where, fmt::format("chain {} starts without following any earlier record although chained records "
                              "precede it (the file was empty or cut when its writer started)",
                              chain.id));
    }
  }
  if (check && std::string_view(HashRecord(previous, r.sealed.body_without_brace).data(), 64) != r.sealed.hash) {
    Error(where, r.n == 1 ? fmt::format("record edited: record 1 of chain {} does not match its chain value", chain.id)
                          : fmt::format("record edited: record {} of chain {} does not match its chain value and "
                                        "the record before it ({}; if that one was edited with its chain value "
                                        "recomputed, it is the edited one)",
                                        r.n, chain.id, At(chain.head_where)));
  }
  if (r.kind == "checkpoint") CheckCheckpoint(chain, where, r.n, previous, line);
  chain.server = chain.server || r.server;
  chain.head.assign(r.sealed.hash);
  chain.head_known = true;
  chain.head_where = where;
  chain.last_where = std::max(chain.last_where, where);
  chain.next = r.n + 1;
}

void ChainVerifier::Drain(Chain& chain) {
  while (!chain.held.empty() && chain.held.begin()->first == chain.next) {
    Held h = std::move(chain.held.begin()->second);
    chain.held.erase(chain.held.begin());
    if (h.where < chain.last_where) {
      Error(h.where, fmt::format("records reordered: record {} of chain {} comes before record {} ({})", chain.next,
                                 chain.id, chain.next - 1, At(chain.head_where)));
    }
    Accept(chain, h.where, h.line);
  }
}

void ChainVerifier::SkipGap(Chain& chain) {
  const auto& [first, held] = *chain.held.begin();
  const std::string before =
      chain.next == 1 ? std::string("its start") : fmt::format("record {} ({})", chain.next - 1, At(chain.head_where));
  Error(held.where,
        first - chain.next == 1
            ? fmt::format("record deleted: record {} of chain {} is missing between {} and this record {}", chain.next,
                          chain.id, before, first)
            : fmt::format("records deleted: records {} to {} of chain {} are missing between {} and this record {}",
                          chain.next, first - 1, chain.id, before, first));
  chain.next = first;
  chain.head_known = false;
  // The records before the gap are accepted in order: none is out of order for the gap.
  chain.last_where = std::min(chain.last_where, held.where);
}

void ChainVerifier::CheckCheckpoint(Chain& chain, std::int64_t where, std::int64_t n, std::string_view previous,
                                    std::string_view line) {
  ChainedRecord r;
  Read(line, r);
  const std::string& head = r.head;
  const std::string& key = r.key;
  const std::string& signature = r.signature;
  if (head != previous) {
    Error(where, fmt::format("bad checkpoint: it signs a head ({}) other than the record before it in chain {}",
                             Short(head), chain.id));
    return;
  }
  if (!options_.public_key.empty() && key != options_.public_key) {
    Error(where,
          fmt::format("bad checkpoint: signed by key {} , not the node key given ({})", key, options_.public_key));
    return;
  }
  if (!crypto::VerifySignature(key, CheckpointMessage(chain.id, n, head), signature)) {
    Error(where, fmt::format("bad checkpoint signature (chain {}, record {})", chain.id, n));
    return;
  }
  if (options_.public_key.empty() && !warned_embedded_key_) {
    warned_embedded_key_ = true;
    Warn(0, fmt::format("checkpoints were checked against the key they carry ({}); give the node's public key "
                        "(provgate audit pubkey) with --public-key to prove they are the node's",
                        key));
  }
  chain.signed_through = n;
  ++report_.checkpoints;
}

VerifyReport ChainVerifier::Finish() {
  for (const auto& id : order_) {
    Chain& chain = chains_[id];
    while (!chain.held.empty()) {
      SkipGap(chain);
      Drain(chain);
    }
  }
  for (const auto& link : links_) {
    if (!seen_hashes_.contains(HashPrefix(link.hash))) {
      Error(link.where, fmt::format("records deleted: chain {} follows a record (chain value {}...) that is not in "
                                    "the trail: a writer's whole run, or the end of the one before, was removed",
                                    link.chain, Short(link.hash)));
    }
  }
  for (const auto& id : order_) {
    const Chain& chain = chains_[id];
    const std::int64_t tail = chain.next - 1 - chain.signed_through;
    if (!chain.server || tail <= 0) continue;
    report_.unsigned_tail += tail;
    Warn(chain.last_where, fmt::format("unsigned tail: the last {} records of server chain {} (up to {}) come after "
                                       "its last checkpoint; removing them would not be detected from the file alone",
                                       tail, chain.id, At(chain.last_where)));
  }
  if (report_.unchained > 0) {
    Warn(0, fmt::format("{} records at the start were written before the trail was chained: not verifiable",
                        report_.unchained));
  }
  report_.chains = static_cast<std::int64_t>(chains_.size());
  return std::move(report_);
}

}  // namespace provgate::audit
