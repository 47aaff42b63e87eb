// provgate db migrate|check|copy: the store's schema and integrity, on whichever backend the
// config names, and a copy between stores (docs/database.md). None needs the audit log or the
// templates, so migrate and check run before a first start and beside a running server.
#include <fmt/format.h>

#include "app/master_key.hpp"
#include "app/store_backend.hpp"
#include "cli/commands.hpp"
#include "crypto/random.hpp"
#include "store/schema/steps.hpp"
#include "store/transfer/copy.hpp"

namespace provgate::cli {
namespace {

// The configured store, migrated (one connection is enough for a command), and the master
// key's shared lock, held while the store is used.
struct ConfiguredStore {
  app::KeyUseLock key_lock;
  std::unique_ptr<store::Store> store;
  store::Store* operator->() const { return store.get(); }
};

Result<ConfiguredStore> OpenConfiguredStore(const GlobalOptions& g, const Clock& clock) {
  PG_TRY_STATUS(crypto::InitCrypto());
  PG_TRY(auto config, app::LoadConfig(g.config));
  PG_TRY(auto key_lock, app::KeyUseLock::Shared(config));
  PG_TRY(auto box, app::OpenMasterKey(config, key_lock));
  PG_TRY(auto store, app::OpenStore(config, box, clock, 1));
  return ConfiguredStore{std::move(key_lock), std::move(store)};
}

int Migrate(const GlobalOptions& g) {
  SystemClock clock;
  auto store = OpenConfiguredStore(g, clock);
  if (!store) return Fail(store.error());
  auto version = (*store)->SchemaVersion();
  if (!version) return Fail(version.error());
  fmt::print("schema version {} (this provgate knows {})\n", *version, store::schema::LatestSchemaVersion());
  return 0;
}

int Check(const GlobalOptions& g) {
  SystemClock clock;
  auto store = OpenConfiguredStore(g, clock);
  if (!store) return Fail(store.error());
  auto broken = (*store)->CheckInvariants();
  if (!broken) return Fail(broken.error());
  for (const auto& v : *broken) {
    fmt::print("FAIL {}: {}\n", v.name, v.rule);
    for (const auto& row : v.rows) fmt::print("  {}\n", row);
  }
  const size_t total = store::schema::Invariants().size();
  if (!broken->empty()) {
    fmt::print("{} of {} invariants broken\n", broken->size(), total);
    return 1;
  }
  fmt::print("ok: all {} invariants hold\n", total);
  return 0;
}

struct CopyArgs {
  std::string from, to;
  bool migrate_target = false;
};

// One line per table: rows and checksum on each side, and whether they agree.
void PrintCopyReport(const store::transfer::CopyReport& report) {
  fmt::print("{:<24} {:>10} {:>10}  {:<64}  {}\n", "table", "source", "target", "sha256 (source)", "");
  for (const auto& t : report.tables) {
    const bool same = t.source == t.target;
    fmt::print("{:<24} {:>10} {:>10}  {:<64}  {}\n", t.table, t.source.rows, t.target.rows, t.source.sha256,
               same ? "ok" : "DIFFERS (target " + t.target.sha256 + ")");
  }
}

int Copy(const CopyArgs& args) {
  SystemClock clock;
  if (auto r = crypto::InitCrypto(); !r) return Fail(r.error());
  auto from = store::transfer::OpenTables(args.from);
  if (!from) return Fail(from.error());
  auto to = store::transfer::OpenTables(args.to);
  if (!to) return Fail(to.error());
  auto report = store::transfer::CopyStore(
      **from, **to, args.migrate_target ? store::transfer::MigrateTarget::kYes : store::transfer::MigrateTarget::kNo,
      ToUnix(clock.Now()));
  if (!report) return Fail(report.error());
  PrintCopyReport(*report);
  if (!report->committed) {
    return Fail(Error::Internal(fmt::format("the copy in {} differs from {}; it was rolled back, {} is unchanged",
                                            (*to)->Describe(), (*from)->Describe(), (*to)->Describe())));
  }
  fmt::print("copied {} tables from {} to {}; counts and checksums match\n", report->tables.size(), (*from)->Describe(),
             (*to)->Describe());
  return 0;
}

}  // namespace

void AddDbCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* cmd = root.add_subcommand("db", "The store's schema and integrity (SQLite or PostgreSQL, as configured)");
  cmd->require_subcommand(1);
  cmd->add_subcommand("migrate", "Apply pending schema migrations and print the schema version")->callback([&g, &h] {
    h = [&g] { return Migrate(g); };
  });
  cmd->add_subcommand("check",
                      "Check the store's invariants (no line both delivered and pending, no lock without its "
                      "lifecycle record, ...); exit status 1 names each broken one with its rows")
      ->callback([&g, &h] { h = [&g] { return Check(g); }; });

  static CopyArgs copy;
  auto* copy_cmd = cmd->add_subcommand(
      "copy",
      "Copy every table of one store into another, empty one (SQLite <-> PostgreSQL), e.g. to move from one node "
      "on SQLite to several on PostgreSQL. Both must be at this provgate's schema version; the target is written "
      "in one transaction and committed only if every table's row count and SHA-256 checksum match the source's. "
      "Sealed secrets are copied as they are: the servers on the target need the same master key file. Stop the "
      "servers writing to the source first, or the copy misses what they write afterwards. Does not use -c.");
  copy_cmd->add_option("--from", copy.from, "Source store: sqlite:PATH or postgresql://user@host/db")->required();
  copy_cmd->add_option("--to", copy.to, "Target store, empty: sqlite:PATH or postgresql://user@host/db")->required();
  copy_cmd->add_flag("--migrate-target", copy.migrate_target,
                     "Apply the schema steps to the target first (a new, empty database)");
  copy_cmd->callback([&h] { h = [] { return Copy(copy); }; });
}

}  // namespace provgate::cli
