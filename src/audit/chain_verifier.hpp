// Checks an audit trail's hash chains and checkpoints (chain.hpp) record by record, in the
// order they were written: the file's lines, or the store copy's rows by id. Each finding
// names where it is (a line number or a record id). Input may be anything: the trail is
// what an attacker edits.
//
// What it finds (docs/security.md, "Tamper-evident audit trail"):
//   edited     a record whose chain value does not match its text and its predecessor's
//   deleted    a chain missing records between two it has (or before its first), or a chain
//              that follows a record no longer there (a whole writer, or the tail before it)
//   reordered  a record that comes before a record of its chain that precedes it
//   duplicated a record number that appears twice in its chain
//   forged     a checkpoint whose signature or key does not verify, or that signs another head
//   malformed  a line that is not a record, or a record without a chain after chained ones
// Warnings: records after their chain's last checkpoint (the unsigned tail of a server's
// chain), records from before chaining, a line cut by a crash, a chain that follows nothing
// although chained records precede it, checkpoints checked against the key they carry.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace provgate::audit {

struct VerifyOptions {
  // The node's public key (hex): every checkpoint must be signed by it. Empty: each
  // checkpoint is checked against the key it carries (which proves nothing about who
  // signed it: a warning says so).
  std::string public_key;
  // How findings name a record's place: "line" (file) or "record" (store id).
  std::string unit = "line";
};

struct Finding {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  std::int64_t where = 0;  // 0: the trail as a whole
  std::string message;
};

struct VerifyReport {
  std::vector<Finding> findings;  // in the order found
  std::int64_t records = 0;       // chained records
  std::int64_t chains = 0;
  std::int64_t checkpoints = 0;    // with a valid signature
  std::int64_t unchained = 0;      // records from before chaining
  std::int64_t unsigned_tail = 0;  // server records after their chain's last checkpoint
  size_t errors() const;
  size_t warnings() const { return findings.size() - errors(); }
  bool tampered() const { return errors() > 0; }
};

class ChainVerifier {
 public:
  explicit ChainVerifier(VerifyOptions options);
  // The next record as written; `where` is its line number or id.
  void Add(std::int64_t where, std::string_view line);
  // Everything found; call once, after the last Add.
  VerifyReport Finish();

 private:
  // A record that came before its chain's predecessor, kept until that one comes.
  struct Held {
    std::int64_t where = 0;
    std::string line;
  };
  struct Chain {
    std::string id;
    std::int64_t next = 1;  // the number the next record should have
    std::string head;       // the chain value of record next-1 ("" if unknown)
    bool head_known = true;
    std::int64_t head_where = 0;
    bool server = false;              // its records carry a run (a server wrote them)
    std::int64_t signed_through = 0;  // the number of its last valid checkpoint
    std::int64_t last_where = 0;
    std::map<std::int64_t, Held> held;
  };
  // Too many held records for one chain: its gap is a deletion, not a swap.
  static constexpr size_t kMaxHeld = 4096;

  void Error(std::int64_t where, std::string message);
  void Warn(std::int64_t where, std::string message);
  std::string At(std::int64_t where) const;
  // The record numbered `chain.next`: checks its hash (and checkpoint), then makes it the head.
  void Accept(Chain& chain, std::int64_t where, std::string_view line);
  // Takes held records that are next now, reporting each as out of order.
  void Drain(Chain& chain);
  // Gives up waiting for the records before the first held one: they are gone.
  void SkipGap(Chain& chain);
  void CheckCheckpoint(Chain& chain, std::int64_t where, std::int64_t n, std::string_view previous,
                       std::string_view line);

  const VerifyOptions options_;
  VerifyReport report_;
  std::unordered_map<std::string, Chain> chains_;
  std::vector<std::string> order_;  // chain ids as first seen
  // The first 16 hex digits of every chain value seen, for the links.
  std::unordered_set<std::uint64_t> seen_hashes_;
  struct Link {
    std::int64_t where;
    std::string chain;
    std::string hash;
  };
  std::vector<Link> links_;
  bool warned_embedded_key_ = false;
};

}  // namespace provgate::audit
