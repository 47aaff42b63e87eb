// The audit file's hash chain (docs/security.md, "Tamper-evident audit trail"). Each writer
// of the file (the server, each CLI process) keeps a chain of its own, because writers append
// concurrently without a shared lock: every record it writes carries "chain_id" (the writer's
// random id), "chain_n" (1, 2, ... in write order) and, last on the line, "chain" =
// hex SHA-256(previous || the line without its "chain" field), where previous is the chain
// value of the writer's record n-1, or for record 1 its "chain_link": the chain value of
// the last chained record in the file when the writer started (left out, and "" hashed,
// when the file held none). A server's checkpoint record signs its chain's head.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/record.hpp"
#include "base/result.hpp"

namespace provgate::audit {

// The hash of a record: hex SHA-256(previous || body), 64 digits.
using ChainHash = std::array<char, 64>;
ChainHash HashRecord(std::string_view previous, std::string_view body_without_brace);

// The line's last field ",\"chain\":\"<64 hex>\"}": its hash and the text before it (the
// record's body without its closing brace), or nothing for a line without one.
struct SealedLine {
  std::string_view body_without_brace;
  std::string_view hash;
};
std::optional<SealedLine> SplitSealedLine(std::string_view line);

// The message a checkpoint's signature covers: the chain, the checkpoint's number and the
// chain value of the record before it.
std::string CheckpointMessage(std::string_view chain_id, std::int64_t n, std::string_view head);

// One writer's chain. Not thread-safe: the committer thread owns it.
class ChainWriter {
 public:
  // A new chain with a random id, following `link` (the file's head, may be empty).
  explicit ChainWriter(std::string link);
  // Where the next record goes.
  ChainPosition Next() const { return {id_, n_ + 1, n_ == 0 ? std::string_view(link_) : std::string_view()}; }
  // `line` is a record written with Next() (a JSON object): appends its "chain" field and
  // makes it the head.
  void Seal(std::string& line);
  const std::string& id() const { return id_; }
  std::int64_t n() const { return n_; }
  // The chain value of the last record sealed (the link before the first).
  std::string_view head() const { return n_ == 0 ? std::string_view(link_) : std::string_view(head_.data(), 64); }

 private:
  std::string id_;
  std::string link_;
  std::int64_t n_ = 0;
  ChainHash head_{};
};

// The chain value of the last chained record in the file at `path` (looked for in its last
// 1 MiB), or "" when there is none.
Result<std::string> ReadChainHead(const std::string& path);

}  // namespace provgate::audit
