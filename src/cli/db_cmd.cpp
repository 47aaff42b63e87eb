// provgate db migrate|check: the store's schema and integrity, on whichever backend the
// config names (docs/database.md). Neither needs the audit log or the templates, so both run
// before a first start and beside a running server.
#include <fmt/format.h>

#include "app/store_backend.hpp"
#include "cli/commands.hpp"
#include "crypto/random.hpp"
#include "store/schema/steps.hpp"

namespace provgate::cli {
namespace {

// The configured store, migrated; one connection is enough for a command.
Result<std::unique_ptr<store::Store>> OpenConfiguredStore(const GlobalOptions& g, const Clock& clock) {
  PG_TRY_STATUS(crypto::InitCrypto());
  PG_TRY(auto config, app::LoadConfig(g.config));
  PG_TRY(auto box, crypto::SecretBox::OpenOrCreateKeyFile(config.master_key_path));
  return app::OpenStore(config, box, clock, 1);
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
}

}  // namespace provgate::cli
