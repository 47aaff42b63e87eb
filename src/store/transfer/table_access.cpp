#include "store/transfer/table_access.hpp"

#include <algorithm>

namespace provgate::store::transfer {

std::vector<size_t> Table::KeyColumns() const {
  std::vector<size_t> key;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].key_position > 0) key.push_back(i);
  }
  std::ranges::sort(key, {}, [this](size_t i) { return columns[i].key_position; });
  return key;
}

std::vector<size_t> Table::SealedColumns() const {
  std::vector<size_t> sealed;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].kind == ColumnKind::kBlob && columns[i].name.ends_with("_enc")) sealed.push_back(i);
  }
  return sealed;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string ColumnList(const Table& t, const std::vector<size_t>& indexes) {
  std::string out;
  for (size_t i : indexes) {
    if (!out.empty()) out += ", ";
    out += QuoteIdentifier(t.columns[i].name);
  }
  return out;
}

std::vector<size_t> AllColumns(const Table& t) {
  std::vector<size_t> all(t.columns.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

Result<std::unique_ptr<TableAccess>> OpenTables(std::string_view location) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (location.starts_with(kSqlite)) {
    const std::string_view path = location.substr(kSqlite.size());
    if (path.empty())
      return Error::InvalidArgument("sqlite: needs a file path, e.g. sqlite:/var/lib/provgate/provgate.db");
    return OpenSqliteTables(std::filesystem::path(path));
  }
  if (location.starts_with("postgresql://") || location.starts_with("postgres://")) {
    return OpenPostgresTables(std::string(location));
  }
  // Not echoed: a mistyped URL may still carry a password.
  return Error::InvalidArgument("a database is named sqlite:PATH or postgresql://...");
}

}  // namespace provgate::store::transfer
