// provgate device token|digest|config-key|admin-password|unlock|repin, provgate ban list|add|remove
#include <fmt/format.h>

#include "cli/commands.hpp"

namespace provgate::cli {

void AddDeviceSecurityCommands(CLI::App& device, GlobalOptions& g, Handler& h) {
  static std::string mac;
  static bool revoke = false;
  struct Cred {
    const char* name;
    const char* help;
    service::CredentialKind kind;
    const char* shown;
  };
  static const Cred creds[] = {
      {"token", "Issue a new per-device URL token (/p/<token>/<file>); the old one stops working",
       service::CredentialKind::kUrlToken, "URL token"},
      {"digest", "Issue a new HTTP digest/basic password (user name: the MAC)",
       service::CredentialKind::kDigestPassword, "digest password"},
      {"config-key", "Issue a new config-encryption key (see docs/encryption.md)", service::CredentialKind::kConfigKey,
       "config key"},
      {"admin-password",
       "Issue a new random web-UI admin password, rendered into the device's own files (every "
       "device gets one when it is added); the phone takes it at its next fetch",
       service::CredentialKind::kAdminPassword, "web admin password"},
  };
  for (const auto& c : creds) {
    auto* cmd = device.add_subcommand(c.name, c.help);
    cmd->add_option("mac", mac, "Device MAC")->required();
    cmd->add_flag("--revoke", revoke, "Remove it instead of issuing a new one");
    cmd->callback([&g, &h, &c] {
      h = [&g, &c] {
        auto a = OpenApp(g);
        if (!a) return 1;
        if (revoke) {
          auto st = a->admin().RevokeCredential(mac, c.kind);
          if (!st) return Fail(st.error());
          fmt::print("{} of {} revoked\n", c.shown, mac);
          return 0;
        }
        auto secret = a->admin().IssueCredential(mac, c.kind);
        if (!secret) return Fail(secret.error());
        fmt::print("{} for {} (shown once, stored only hashed or encrypted): {}\n", c.shown, mac, *secret);
        return 0;
      };
    });
  }
  auto* unlock =
      device.add_subcommand("unlock", "Lift a lock (certificate key changed, network changed, first seen late)");
  unlock->add_option("mac", mac, "Device MAC")->required();
  unlock->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto st = a->admin().UnlockDevice(mac);
      if (!st) return Fail(st.error());
      fmt::print("device {} unlocked\n", mac);
      return 0;
    };
  });
  auto* repin =
      device.add_subcommand("repin", "Forget the pinned certificate key; the next authenticated fetch pins anew");
  repin->add_option("mac", mac, "Device MAC")->required();
  repin->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto st = a->admin().RepinDevice(mac);
      if (!st) return Fail(st.error());
      fmt::print("certificate pin of {} cleared\n", mac);
      return 0;
    };
  });
}

void AddBanCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* ban = root.add_subcommand("ban", "Bans of scanning sources (stored, shared by all nodes)");
  ban->require_subcommand(1);
  ban->add_subcommand("list", "List active bans")->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto bans = a->admin().ListBans();
      if (!bans) return Fail(bans.error());
      fmt::print("{:<44} {:<25} {:<8} {}\n", "SOURCE", "EXPIRES", "OFFENCES", "REASON");
      for (const auto& b : *bans) {
        fmt::print("{:<44} {:<25} {:<8} {}\n", b.source, FormatRfc3339(FromUnix(b.expires)), b.offence_count, b.reason);
      }
      return 0;
    };
  });
  static std::string source, reason;
  static int minutes = 60;
  auto* add = ban->add_subcommand("add", "Ban an address or CIDR range");
  add->add_option("source", source, "Address or CIDR, e.g. 192.0.2.7 or 198.51.100.0/24")->required();
  add->add_option("--minutes", minutes, "Duration")->capture_default_str();
  add->add_option("--reason", reason, "Why");
  add->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto b = a->admin().AddBan(source, minutes, reason);
      if (!b) return Fail(b.error());
      fmt::print("{} banned until {}\n", b->source, FormatRfc3339(FromUnix(b->expires)));
      return 0;
    };
  });
  auto* remove = ban->add_subcommand("remove", "Lift a ban");
  remove->add_option("source", source, "Address or CIDR as listed")->required();
  remove->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      auto st = a->admin().RemoveBan(source);
      if (!st) return Fail(st.error());
      fmt::print("ban of {} lifted\n", source);
      return 0;
    };
  });
}

}  // namespace provgate::cli
