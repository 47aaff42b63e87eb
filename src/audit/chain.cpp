#include "audit/chain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "crypto/random.hpp"

namespace provgate::audit {
namespace {

constexpr std::string_view kSealPrefix = ",\"chain\":\"";
constexpr size_t kHashSize = 64;
constexpr size_t kSealSize = kSealPrefix.size() + kHashSize + 2;  // the hash, then "}
constexpr std::int64_t kHeadSearchBytes = 1 << 20;

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

ChainHash HashRecord(std::string_view previous, std::string_view body_without_brace) {
  crypto::Sha256 hash;
  hash.Update(previous);
  hash.Update(body_without_brace);
  hash.Update("}");
  const crypto::Sha256::Digest digest = hash.Finish();
  ChainHash out{};
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return out;
}

std::optional<SealedLine> SplitSealedLine(std::string_view line) {
  if (line.size() < kSealSize + 1 || !line.ends_with("\"}")) return std::nullopt;
  const size_t seal = line.size() - kSealSize;
  if (line.substr(seal, kSealPrefix.size()) != kSealPrefix) return std::nullopt;
  const std::string_view hash = line.substr(seal + kSealPrefix.size(), kHashSize);
  if (!IsLowerHex(hash)) return std::nullopt;
  return SealedLine{line.substr(0, seal), hash};
}

std::string CheckpointMessage(std::string_view chain_id, std::int64_t n, std::string_view head) {
  return fmt::format("provgate audit checkpoint v1\n{}\n{}\n{}", chain_id, n, head);
}

ChainWriter::ChainWriter(std::string link) : link_(std::move(link)) {
  const auto id = crypto::RandomBytes(8);
  id_ = crypto::HexEncode(id.data(), id.size());
}

void ChainWriter::Seal(std::string& line) {
  // The body is hashed as written, with its closing brace; the field goes before that brace.
  line.pop_back();
  head_ = HashRecord(head(), line);
  ++n_;
  line.append(kSealPrefix).append(head_.data(), head_.size()).append("\"}");
}

Result<std::string> ReadChainHead(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Error::Unavailable("cannot read audit log " + path + " to find its chain head");
  const std::int64_t size = in.tellg();
  const std::int64_t from = std::max<std::int64_t>(0, size - kHeadSearchBytes);
  std::string text(static_cast<size_t>(size - from), '\0');
  in.seekg(from);
  if (!in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
    return Error::Unavailable("cannot read audit log " + path + " to find its chain head");
  }
  // Complete lines only, newest first.
  size_t end = text.rfind('\n');
  while (end != std::string::npos && end > 0) {
    const size_t start = text.rfind('\n', end - 1);
    const size_t begin = start == std::string::npos ? 0 : start + 1;
    if (start == std::string::npos && from > 0) break;  // the first line may be cut
    if (const auto sealed = SplitSealedLine(std::string_view(text).substr(begin, end - begin))) {
      return std::string(sealed->hash);
    }
    if (start == std::string::npos) break;
    end = start;
  }
  return std::string();
}

}  // namespace provgate::audit
