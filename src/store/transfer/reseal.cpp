#include "store/transfer/reseal.hpp"

#include <fmt/format.h>

namespace provgate::store::transfer {
namespace {

constexpr size_t kPageRows = 1000;

std::vector<unsigned char> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

// Re-seals the sealed columns of one page in place; counts them into `resealed`.
Status ResealPage(const Table& t, const std::vector<size_t>& sealed, std::vector<Row>& page,
                  const crypto::SecretBox& current, const crypto::SecretBox& next,
                  std::vector<ResealedColumn>& resealed) {
  for (auto& row : page) {
    for (size_t i = 0; i < sealed.size(); ++i) {
      auto& value = row[sealed[i]];
      if (!value) continue;
      auto plain = current.Open(Bytes(*value));
      if (!plain) {
        return Error::FailedPrecondition(
            fmt::format("a secret in {}.{} does not open under the current master key ({}); nothing was changed",
                        t.name, t.columns[sealed[i]].name, plain.error().message));
      }
      const auto sealed_again = next.Seal(*plain);
      value = std::string(sealed_again.begin(), sealed_again.end());
      ++resealed[resealed.size() - sealed.size() + i].secrets;
    }
  }
  return Ok();
}

Status ResealTable(TableAccess& db, const Table& t, const crypto::SecretBox& current, const crypto::SecretBox& next,
                   std::vector<ResealedColumn>& resealed) {
  const auto sealed = t.SealedColumns();
  for (size_t c : sealed) resealed.push_back(ResealedColumn{.table = t.name, .column = t.columns[c].name});
  std::optional<Row> last;
  for (;;) {
    PG_TRY(auto page, db.ReadPage(t, last ? &*last : nullptr, kPageRows));
    if (page.empty()) return Ok();
    PG_TRY_STATUS(ResealPage(t, sealed, page, current, next, resealed));
    PG_TRY_STATUS(db.Update(t, sealed, page));
    if (page.size() < kPageRows) return Ok();
    last = std::move(page.back());
  }
}

}  // namespace

Result<std::vector<ResealedColumn>> ResealSecrets(TableAccess& db, const crypto::SecretBox& current,
                                                  const crypto::SecretBox& next) {
  PG_TRY(auto tables, db.Tables());
  PG_TRY_STATUS(db.Begin(TransactionMode::kWrite));
  std::vector<ResealedColumn> resealed;
  for (const auto& t : tables) {
    if (t.SealedColumns().empty()) continue;
    if (auto r = ResealTable(db, t, current, next, resealed); !r) {
      db.Rollback();
      return r.error();
    }
  }
  PG_TRY_STATUS(db.Commit());
  return resealed;
}

Result<std::optional<SealedSample>> FindSealedSample(TableAccess& db) {
  PG_TRY(auto tables, db.Tables());
  for (const auto& t : tables) {
    for (size_t c : t.SealedColumns()) {
      PG_TRY(Value sample, db.AnyValue(t, c));
      if (sample) return SealedSample{.table = t.name, .column = t.columns[c].name, .sealed = Bytes(*sample)};
    }
  }
  return std::nullopt;
}

Result<SealedUnder> FindSealingKey(TableAccess& db, const crypto::SecretBox& current, const crypto::SecretBox& next) {
  PG_TRY(auto sample, FindSealedSample(db));
  if (!sample || next.Open(sample->sealed)) return SealedUnder::kNext;
  if (current.Open(sample->sealed)) return SealedUnder::kCurrent;
  return Error::FailedPrecondition(fmt::format(
      "a secret in {}.{} opens under neither the master key nor the staged new key", sample->table, sample->column));
}

}  // namespace provgate::store::transfer
