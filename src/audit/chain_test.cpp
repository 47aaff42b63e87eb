#include "audit/chain.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.hpp"
#include "audit/chain_verifier.hpp"
#include "audit/record_format.hpp"
#include "audit/test_support.hpp"
#include "crypto/random.hpp"

namespace provgate::audit {
namespace {

using test_support::TempFile;

crypto::SigningKey Key(unsigned char fill) {
  std::array<unsigned char, crypto::SigningKey::kSeedSize> seed{};
  seed.fill(fill);
  return crypto::SigningKey::FromSeed(seed);
}

AuditRecord Numbered(int i) {
  AuditRecord r = test_support::Allowed();
  r.reason = "record " + std::to_string(i);
  r.kind = "admin";
  return r;
}

// `count` sealed lines of one writer, a server's when `run` is set, following `link`.
std::vector<std::string> Lines(ChainWriter& chain, int count, std::string_view run = "") {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    std::string line;
    const auto position = chain.Next();
    Numbered(i).AppendJson(line, run, run.empty() ? 0 : chain.n() + 1, nullptr, &position);
    chain.Seal(line);
    out.push_back(line);
  }
  return out;
}

// A checkpoint record as the committer writes it, signing `chain`'s head.
std::string CheckpointLine(ChainWriter& chain, const crypto::SigningKey& key, std::string_view run = "00aa") {
  const std::string head(chain.head());
  nlohmann::json detail{{"head", head},
                        {"key", key.public_key_hex()},
                        {"signature", key.SignHex(CheckpointMessage(chain.id(), chain.n() + 1, head))}};
  const AuditRecord r = InfoRecord({}, "checkpoint", "", "checkpoint", "", detail);
  std::string line;
  const auto position = chain.Next();
  r.AppendJson(line, run, chain.n() + 1, nullptr, &position);
  chain.Seal(line);
  return line;
}

VerifyReport Verify(const std::vector<std::string>& lines, std::string public_key = "") {
  ChainVerifier v(VerifyOptions{std::move(public_key), "line"});
  for (size_t i = 0; i < lines.size(); ++i) v.Add(static_cast<std::int64_t>(i + 1), lines[i]);
  return v.Finish();
}

// "line: message" of each error, to match on.
std::vector<std::string> Errors(const VerifyReport& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) {
    if (f.severity == Finding::Severity::kError) out.push_back(std::to_string(f.where) + ": " + f.message);
  }
  return out;
}

bool HasError(const VerifyReport& r, std::int64_t where, std::string_view words) {
  for (const auto& f : r.findings) {
    if (f.severity == Finding::Severity::kError && f.where == where && f.message.find(words) != std::string::npos) {
      return true;
    }
  }
  return false;
}

class Chain : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::InitCrypto()); }
};

TEST_F(Chain, SealedLinesAreJsonWithTheChainFieldLastAndParseBack) {
  ChainWriter chain("");
  const auto lines = Lines(chain, 2);
  const auto j = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(j["chain_id"], chain.id());
  EXPECT_EQ(j["chain_n"], 2);
  EXPECT_EQ(j["chain"], std::string(chain.head()));
  EXPECT_FALSE(nlohmann::json::parse(lines[0]).contains("chain_link"));
  const auto sealed = SplitSealedLine(lines[1]);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->hash, std::string(chain.head()));
  EXPECT_TRUE(ParseStoredLine(lines[1]));
}

TEST_F(Chain, ACleanTrailOfSeveralLinkedWritersVerifies) {
  const auto key = Key(1);
  ChainWriter server("");
  auto lines = Lines(server, 3, "00aa");
  lines.push_back(CheckpointLine(server, key));
  ChainWriter cli{std::string(server.head())};
  auto more = Lines(cli, 2);
  lines.insert(lines.end(), more.begin(), more.end());
  ChainWriter next{std::string(cli.head())};
  more = Lines(next, 2, "00bb");
  lines.insert(lines.end(), more.begin(), more.end());
  lines.push_back(CheckpointLine(next, key, "00bb"));
  const auto report = Verify(lines, key.public_key_hex());
  EXPECT_TRUE(Errors(report).empty()) << testing::PrintToString(Errors(report));
  EXPECT_EQ(report.records, 9);
  EXPECT_EQ(report.chains, 3);
  EXPECT_EQ(report.checkpoints, 2);
  EXPECT_EQ(report.unsigned_tail, 0);
  EXPECT_EQ(report.warnings(), 0u);
}

TEST_F(Chain, AnEditedRecordIsNamedByItsLine) {
  ChainWriter chain("");
  auto lines = Lines(chain, 4);
  lines[1].replace(lines[1].find("record 1"), 8, "record X");
  const auto report = Verify(lines);
  EXPECT_EQ(Errors(report).size(), 1u) << testing::PrintToString(Errors(report));
  EXPECT_TRUE(HasError(report, 2, "record edited"));
}

TEST_F(Chain, AnEditWithItsChainValueRecomputedIsFoundAtTheNextRecord) {
  ChainWriter chain("");
  auto lines = Lines(chain, 3);
  // The attacker reseals line 2 after the edit: it now follows line 1 but line 3 does not follow it.
  auto sealed = SplitSealedLine(lines[1]);
  std::string body(sealed->body_without_brace);
  body.replace(body.find("record 1"), 8, "record X");
  const std::string prev(SplitSealedLine(lines[0])->hash);
  const auto hash = HashRecord(prev, body);
  lines[1] = body + ",\"chain\":\"" + std::string(hash.data(), 64) + "\"}";
  const auto report = Verify(lines);
  EXPECT_TRUE(HasError(report, 3, "record edited")) << testing::PrintToString(Errors(report));
}

TEST_F(Chain, ADeletedRecordIsNamedWithTheGap) {
  ChainWriter chain("");
  auto lines = Lines(chain, 5);
  lines.erase(lines.begin() + 2);
  const auto report = Verify(lines);
  EXPECT_EQ(Errors(report).size(), 1u) << testing::PrintToString(Errors(report));
  EXPECT_TRUE(HasError(report, 3, "record deleted: record 3 of chain"));
}

TEST_F(Chain, SwappedRecordsAreReportedAsReordered) {
  ChainWriter chain("");
  auto lines = Lines(chain, 5);
  std::swap(lines[1], lines[3]);
  const auto report = Verify(lines);
  EXPECT_FALSE(Errors(report).empty());
  EXPECT_TRUE(HasError(report, 2, "records reordered")) << testing::PrintToString(Errors(report));
  for (const auto& e : Errors(report)) EXPECT_EQ(e.find("deleted"), std::string::npos) << e;
}

TEST_F(Chain, ADuplicatedRecordIsReported) {
  ChainWriter chain("");
  auto lines = Lines(chain, 3);
  lines.push_back(lines[1]);
  EXPECT_TRUE(HasError(Verify(lines), 4, "duplicated"));
}

TEST_F(Chain, AWriterWhoseLinkedRecordsAreGoneIsReported) {
  ChainWriter first("");
  auto lines = Lines(first, 3, "00aa");
  ChainWriter second{std::string(first.head())};
  auto more = Lines(second, 2, "00bb");
  // The first run's tail is removed, after the second run had started.
  lines.pop_back();
  lines.insert(lines.end(), more.begin(), more.end());
  const auto report = Verify(lines);
  EXPECT_TRUE(HasError(report, 3, "records deleted: chain")) << testing::PrintToString(Errors(report));
}

TEST_F(Chain, BadCheckpointsAreErrorsAndTheUnsignedTailAWarning) {
  const auto key = Key(1);
  const auto other = Key(2);
  ChainWriter chain("");
  auto lines = Lines(chain, 2, "00aa");
  lines.push_back(CheckpointLine(chain, key));
  auto more = Lines(chain, 2, "00aa");
  lines.insert(lines.end(), more.begin(), more.end());

  auto clean = Verify(lines, key.public_key_hex());
  EXPECT_TRUE(Errors(clean).empty());
  EXPECT_EQ(clean.unsigned_tail, 2);
  ASSERT_EQ(clean.warnings(), 1u);
  EXPECT_NE(clean.findings[0].message.find("unsigned tail"), std::string::npos);
  EXPECT_EQ(clean.findings[0].where, 5);

  EXPECT_TRUE(HasError(Verify(lines, other.public_key_hex()), 3, "not the node key"));

  // A forged signature, resealed so that only the signature is wrong.
  auto forged = lines;
  auto sealed = SplitSealedLine(forged[2]);
  std::string body(sealed->body_without_brace);
  const size_t sig = body.find("\"signature\":\"") + 13;
  body[sig] = body[sig] == '0' ? '1' : '0';
  const auto hash = HashRecord(std::string(SplitSealedLine(forged[1])->hash), body);
  forged[2] = body + ",\"chain\":\"" + std::string(hash.data(), 64) + "\"}";
  // The records after it were chained to the original: only the signature is checked here.
  forged.resize(3);
  EXPECT_TRUE(HasError(Verify(forged, key.public_key_hex()), 3, "bad checkpoint signature"))
      << testing::PrintToString(Errors(Verify(forged, key.public_key_hex())));
}

TEST_F(Chain, MalformedAndInsertedLinesAreErrorsAndACutLineAWarning) {
  ChainWriter chain("");
  auto lines = Lines(chain, 2);
  std::string unchained;
  Numbered(9).AppendJson(unchained);
  std::vector<std::string> trail = {unchained, lines[0], "{not json}", unchained, lines[1], lines[1].substr(0, 20)};
  const auto report = Verify(trail);
  EXPECT_EQ(report.unchained, 1);
  EXPECT_TRUE(HasError(report, 3, "not a well-formed"));
  EXPECT_TRUE(HasError(report, 4, "without a chain after chained records"));
  EXPECT_EQ(Errors(report).size(), 2u) << testing::PrintToString(Errors(report));
  EXPECT_EQ(report.warnings(), 2u);  // the cut line, the records before chaining
}

TEST_F(Chain, HostileLinesAreMalformedNotACrash) {
  // A detail nested 200 000 deep (copying it would recurse that deep), and a record number at
  // the top of the range (its successor would overflow): each is a malformed line.
  const std::string deep = R"({"chain_id":"a","chain_n":1,"detail":)" + std::string(200'000, '[') +
                           std::string(200'000, ']') + R"(,"chain":")" + std::string(64, '0') + R"("})";
  const std::string top = R"({"chain_id":"a","chain_n":9223372036854775807,"chain":")" + std::string(64, '0') + R"("})";
  const auto report = Verify({deep, top});
  EXPECT_TRUE(report.tampered());
  EXPECT_TRUE(HasError(report, 2, "not a well-formed")) << testing::PrintToString(Errors(report));
}

TEST_F(Chain, ReadChainHeadFindsTheLastSealedLine) {
  const auto path = TempFile("chain_head.log");
  EXPECT_FALSE(ReadChainHead(path.string()));  // no file
  ChainWriter chain("");
  auto lines = Lines(chain, 2);
  {
    std::ofstream out(path);
    out << lines[0] << "\n" << lines[1] << "\n{\"kind\":\"other\"}\n{\"cut";
  }
  EXPECT_EQ(ReadChainHead(path.string()).value(), std::string(chain.head()));
}

// The committer end to end: a server's log signs its chain, a CLI's log joins it, and the
// file verifies clean; the records a checkpoint signs are the whole chain.
TEST_F(Chain, AuditLogsWriteAChainThatVerifies) {
  const auto path = TempFile("chain_log.log");
  const auto key = Key(3);
  const SystemClock wall;
  AuditOptions options;
  options.checkpoint_records = 3;
  {
    auto log = AuditLog::Open(path, nullptr, options);
    ASSERT_TRUE(log);
    ASSERT_TRUE((*log)->ClaimForServer(&key, &wall));
    for (int i = 0; i < 7; ++i) ASSERT_TRUE((*log)->Write(Numbered(i), Durability::kDurable));
  }
  {
    auto cli = AuditLog::Open(path, nullptr);
    ASSERT_TRUE(cli);
    ASSERT_TRUE((*cli)->Write(Numbered(100), Durability::kDurable));
  }
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  // 7 records, a checkpoint after the 3rd and 6th, one when the log closed, the CLI's record.
  ASSERT_EQ(lines.size(), 11u);
  EXPECT_EQ(nlohmann::json::parse(lines[3])["kind"], "checkpoint");
  EXPECT_EQ(nlohmann::json::parse(lines[9])["kind"], "checkpoint");
  EXPECT_EQ(nlohmann::json::parse(lines[10])["chain_link"], nlohmann::json::parse(lines[9])["chain"]);
  const auto report = Verify(lines, key.public_key_hex());
  EXPECT_TRUE(Errors(report).empty()) << testing::PrintToString(Errors(report));
  EXPECT_EQ(report.checkpoints, 3);
  EXPECT_EQ(report.unsigned_tail, 0);
  EXPECT_EQ(report.chains, 2);
}

// A server that goes quiet still signs its records: checkpoint_interval after the first
// unsigned one, without another record to carry it.
TEST_F(Chain, AQuietServerSignsItsRecordsAfterTheInterval) {
  const auto path = TempFile("chain_quiet.log");
  const auto key = Key(4);
  const SystemClock wall;
  ManualSteadyClock steady;
  AuditOptions options;
  options.checkpoint_interval = std::chrono::seconds(60);
  auto log = AuditLog::Open(path, nullptr, options, steady);
  ASSERT_TRUE(log);
  ASSERT_TRUE((*log)->ClaimForServer(&key, &wall));
  ASSERT_TRUE((*log)->Write(Numbered(1), Durability::kDurable));
  ASSERT_TRUE((*log)->Write(Numbered(2), Durability::kDurable));
  const auto lines = [&] {
    std::vector<std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  ASSERT_TRUE(steady.AwaitWaiters(1));
  EXPECT_EQ(lines().size(), 2u);
  steady.Advance(std::chrono::seconds(61));
  for (int i = 0; i < 30'000 && lines().size() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(lines().size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(lines()[2])["kind"], "checkpoint");
  const auto report = Verify(lines(), key.public_key_hex());
  EXPECT_TRUE(Errors(report).empty()) << testing::PrintToString(Errors(report));
  EXPECT_EQ(report.checkpoints, 1);
  EXPECT_EQ(report.unsigned_tail, 0);
  log->reset();  // nothing unsigned: no checkpoint at close
  EXPECT_EQ(lines().size(), 3u);
}

}  // namespace
}  // namespace provgate::audit
