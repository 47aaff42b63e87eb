// provgate key rotate: a new master key, every sealed secret re-sealed under it in one
// transaction, the key file replaced (docs/security.md "Master-key rotation").
#include <fmt/format.h>

#include "app/master_key.hpp"
#include "cli/commands.hpp"
#include "crypto/random.hpp"

namespace provgate::cli {
namespace {

int Rotate(const GlobalOptions& g, bool servers_stopped) {
  if (!servers_stopped) {
    return Fail(Error::FailedPrecondition(
        "stop every provgate server of this store first (they keep the old key in memory and would seal new "
        "secrets under it), then run again with --servers-stopped; see docs/security.md"));
  }
  if (auto r = crypto::InitCrypto(); !r) return Fail(r.error());
  auto config = app::LoadConfig(g.config);
  if (!config) return Fail(config.error());
  auto resealed = app::RotateMasterKey(*config);
  if (!resealed) return Fail(resealed.error());
  std::int64_t total = 0;
  for (const auto& c : *resealed) {
    fmt::print("{}.{}: {} secrets re-sealed\n", c.table, c.column, c.secrets);
    total += c.secrets;
  }
  fmt::print(
      "master key rotated: {} secrets re-sealed; the new key is in {} and the old one is gone.\n"
      "Copy {} to every other node of this store before starting its servers.\n",
      total, config->master_key_path.string(), config->master_key_path.string());
  return 0;
}

}  // namespace

void AddKeyCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* cmd = root.add_subcommand("key", "The master key that seals secrets at rest (store.master_key)");
  cmd->require_subcommand(1);
  static bool servers_stopped = false;
  auto* rotate = cmd->add_subcommand(
      "rotate",
      "Generate a new master key, re-seal every sealed secret (SIP passwords, config keys, admin and digest "
      "passwords, TOTP secrets) under it in one transaction, and replace the key file; the old key is destroyed. "
      "Stop all servers of the store first and copy the new key file to every node afterwards. Safe to "
      "interrupt: the next start (or rotate) finishes or undoes it. Take a backup of the database together "
      "with the old key file first if you may need to restore older backups.");
  rotate->add_flag("--servers-stopped", servers_stopped,
                   "Confirm that no provgate server uses this store or its key file (required)");
  rotate->callback([&g, &h] { h = [&g] { return Rotate(g, servers_stopped); }; });
}

}  // namespace provgate::cli
