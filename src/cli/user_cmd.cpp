// provgate user add: web portal users (docs/portal.md). The password is read from the
// terminal without echo, or from standard input with --password-stdin (first line); the
// TOTP secret and recovery codes are printed once.
#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cli/commands.hpp"
#include "portal/accounts.hpp"

namespace provgate::cli {
namespace {

// One line from the terminal with echo off (or from a pipe as is).
std::string ReadSecretLine(const char* prompt) {
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  termios old{};
  if (tty) {
    std::fprintf(stderr, "%s", prompt);
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

void AddUserCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* cmd = root.add_subcommand("user", "Web portal users (sign-in with password and TOTP)");
  cmd->require_subcommand(1);

  struct AddArgs {
    std::string name, role, tenant;
    bool password_stdin = false;
  };
  static AddArgs add;
  auto* add_cmd =
      cmd->add_subcommand("add", "Create a portal user; prints the TOTP enrolment secret and recovery codes once");
  add_cmd->add_option("name", add.name, "User name (letters, digits, . _ - @)")->required();
  add_cmd->add_option("--role", add.role, "admin, tenant-admin, support or auditor")->required();
  add_cmd->add_option("--tenant", add.tenant,
                      "Confine the user to this tenant (tenant-admin: required; admin: not allowed)");
  add_cmd->add_flag("--password-stdin", add.password_stdin, "Read the password from the first line of standard input");
  add_cmd->callback([&g, &h] {
    h = [&g] {
      auto a = OpenApp(g);
      if (!a) return 1;
      std::string password;
      if (add.password_stdin || ::isatty(STDIN_FILENO) != 1) {
        std::getline(std::cin, password);
        if (!password.empty() && password.back() == '\r') password.pop_back();
      } else {
        password = ReadSecretLine("Password: ");
        if (ReadSecretLine("Password again: ") != password) {
          return Fail(Error::InvalidArgument("the passwords differ"));
        }
      }
      const char* user = std::getenv("USER");
      portal::Accounts accounts(a->portal_users(), a->store(), a->secret_box(), a->audit(), a->clock());
      auto added =
          accounts.AddUser(add.name, add.role, add.tenant, password, std::string("cli:") + (user ? user : "unknown"));
      if (!added) return Fail(added.error());
      fmt::print(stderr, "User {} ({}{}) created. Enrol the authenticator app now; this is shown once.\n",
                 added->user.name, service::RoleName(added->user.role),
                 added->user.tenant ? ", tenant " + added->user.tenant->name : "");
      fmt::print("totp-secret: {}\notpauth-uri: {}\n", added->totp_secret, added->otpauth_uri);
      for (const auto& code : added->recovery_codes) fmt::print("recovery-code: {}\n", code);
      return 0;
    };
  });
}

}  // namespace provgate::cli
