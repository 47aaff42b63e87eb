// Each subcommand registers itself on the root CLI11 app; handlers return an exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

#include "app/app.hpp"
#include "lint/lint.hpp"
#include "service/lint.hpp"

namespace provgate::cli {

struct GlobalOptions {
  std::string config = "provgate.toml";
};

// Loads the config and opens the app, or prints the error and returns nullptr.
std::unique_ptr<app::App> OpenApp(const GlobalOptions& g, app::App::Role role = app::App::Role::kCli);
// Prints "provgate: error: <message>" to stderr and returns 1.
int Fail(const Error& e);

// The handler to run after parsing; set by whichever subcommand was chosen.
using Handler = std::function<int()>;

void AddServeCommand(CLI::App& root, GlobalOptions& g, Handler& h);
void AddTenantCommands(CLI::App& root, GlobalOptions& g, Handler& h);
void AddDeviceCommands(CLI::App& root, GlobalOptions& g, Handler& h);
// Lifecycle subcommands of `device` (lifecycle_cmd.cpp).
void AddLifecycleCommands(CLI::App& device, GlobalOptions& g, Handler& h);
void AddDeviceSecurityCommands(CLI::App& device, GlobalOptions& g, Handler& h);
void AddBanCommands(CLI::App& root, GlobalOptions& g, Handler& h);
void AddLineCommands(CLI::App& root, GlobalOptions& g, Handler& h);
void AddCaCommands(CLI::App& root, GlobalOptions& g, Handler& h);
void AddDemoCommands(CLI::App& root, GlobalOptions& g, Handler& h);
// `provgate apikey add|list|revoke` (apikey_cmd.cpp) and `provgate audit list` (audit_cmd.cpp).
void AddApiKeyCommands(CLI::App& root, GlobalOptions& g, Handler& h);
void AddAuditCommands(CLI::App& root, GlobalOptions& g, Handler& h);
// `provgate user add` (user_cmd.cpp): web portal users.
void AddUserCommands(CLI::App& root, GlobalOptions& g, Handler& h);
// `provgate db migrate|check|copy` (db_cmd.cpp).
void AddDbCommands(CLI::App& root, GlobalOptions& g, Handler& h);
// `provgate key rotate` (key_cmd.cpp).
void AddKeyCommands(CLI::App& root, GlobalOptions& g, Handler& h);
// `provgate lint` (lint_cmd.cpp).
void AddLintCommand(CLI::App& root, GlobalOptions& g, Handler& h);
// `tenant vars ...` and `device vars ...` on the existing subcommands (vars_cmd.cpp).
void AddVarsCommands(CLI::App& tenant, CLI::App& device, GlobalOptions& g, Handler& h);

// The linter over the app's store, vendors, templates and provisioning URL.
service::Linter MakeLinter(app::App& a);
// "MAC FILE RULE SEVERITY: message (fix: hint)", the one line format of every finding.
std::string FormatFinding(const std::string& mac, const lint::Finding& f);

}  // namespace provgate::cli
