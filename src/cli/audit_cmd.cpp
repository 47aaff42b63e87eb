// provgate audit list: the audit query of the admin API (GET /api/v1/audit) on the CLI.
// provgate audit verify: the audit trail's hash chains and signed checkpoints, in the file
// and in the store's copy (audit/chain_verifier.hpp). provgate audit pubkey: the node's
// checkpoint key, for a verifier elsewhere.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <vector>

#include "audit/chain_verifier.hpp"
#include "cli/commands.hpp"
#include "crypto/random.hpp"
#include "crypto/signing_key.hpp"
#include "service/queries.hpp"

namespace provgate::cli {
namespace {

// Unix seconds or RFC 3339 UTC, as the API takes them.
std::optional<std::int64_t> ParseWhen(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string::npos) return std::stoll(text);
  std::string t = text;
  if (t.size() == 20 && t.back() == 'Z') t = t.substr(0, 19) + ".000Z";
  if (auto tp = ParseRfc3339(t)) return ToUnix(*tp);
  return std::nullopt;
}

struct VerifyArgs {
  std::string file;
  bool store = false;
  std::string public_key;
};

// Prints each finding as "<what> <unit> <where>: ERROR|WARNING: <message>" and a summary
// line; true when nothing was tampered with.
bool PrintReport(const std::string& what, std::string_view unit, const audit::VerifyReport& report) {
  for (const auto& f : report.findings) {
    const char* severity = f.severity == audit::Finding::Severity::kError ? "ERROR" : "WARNING";
    if (f.where > 0) {
      fmt::print("{} {} {}: {}: {}\n", what, unit, f.where, severity, f.message);
    } else {
      fmt::print("{}: {}: {}\n", what, severity, f.message);
    }
  }
  fmt::print("{}: {} records in {} chains, {} valid checkpoints, {} unsigned at the end: {} ({} errors, {} warnings)\n",
             what, report.records, report.chains, report.checkpoints, report.unsigned_tail,
             report.tampered() ? "TAMPERED" : "OK", report.errors(), report.warnings());
  return !report.tampered();
}

Result<audit::VerifyReport> VerifyFile(const std::filesystem::path& path, const audit::VerifyOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::NotFound("cannot read audit file " + path.string());
  audit::ChainVerifier verifier(options);
  // A line longer than any record the server writes is read only up to this size (the rest
  // skipped), so a hostile line cannot take the verifier's memory: it is malformed.
  constexpr std::streamsize kMaxLine = 4 << 20;
  std::string line;
  std::int64_t number = 0;
  std::vector<char> buffer(static_cast<size_t>(kMaxLine) + 1);
  while (in) {
    in.getline(buffer.data(), kMaxLine + 1);
    const std::streamsize read = in.gcount();
    if (read == 0 && in.eof()) break;
    if (in.fail() && !in.eof()) {  // kMaxLine characters and no end of line yet
      in.clear();
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
      line = "{line longer than 4 MiB}";
    } else {
      // gcount counts the '\n' it took, except on a last line without one.
      line.assign(buffer.data(), static_cast<size_t>(in.eof() ? read : read - 1));
    }
    verifier.Add(++number, line);
  }
  return verifier.Finish();
}

// The store's copy in id order (the order it was copied in, each writer's records in write
// order). Read newest first in pages, as the API's query does.
Result<audit::VerifyReport> VerifyStore(store::OperatorStore& store, audit::VerifyOptions options) {
  std::vector<store::StoredAuditEvent> all;
  store::AuditQuery q;
  q.limit = 1000;
  for (;;) {
    PG_TRY(auto page, store.QueryAudit(q));
    if (page.empty()) break;
    q.before_id = page.back().id;
    std::move(page.begin(), page.end(), std::back_inserter(all));
  }
  options.unit = "record";
  audit::ChainVerifier verifier(options);
  std::for_each(all.rbegin(), all.rend(), [&](const store::StoredAuditEvent& e) { verifier.Add(e.id, e.json); });
  return verifier.Finish();
}

// The node key's public half when this user can read the key file; never creates it.
std::string NodePublicKey(const app::Config& config) {
  std::error_code ec;
  if (!std::filesystem::exists(app::AuditSigningKeyPath(config), ec)) return "";
  auto key = crypto::SigningKey::OpenOrCreateKeyFile(app::AuditSigningKeyPath(config));
  return key ? key->public_key_hex() : std::string();
}

int RunVerify(const GlobalOptions& g, const VerifyArgs& args) {
  if (!crypto::InitCrypto()) return Fail(Error::Internal("libsodium failed to start"));
  auto config = app::LoadConfig(g.config);
  if (!config && (args.file.empty() || args.store)) return Fail(config.error());
  audit::VerifyOptions options;
  options.public_key = args.public_key;
  if (options.public_key.empty() && config) options.public_key = NodePublicKey(*config);
  if (!options.public_key.empty()) fmt::print("checkpoints must be signed by {}\n", options.public_key);
  bool ok = true;
  if (!args.file.empty() || !args.store) {
    const std::filesystem::path path = !args.file.empty() ? std::filesystem::path(args.file) : config->audit_path;
    auto report = VerifyFile(path, options);
    if (!report) return Fail(report.error());
    ok = PrintReport(path.string(), "line", *report) && ok;
  }
  if (args.store) {
    auto a = OpenApp(g);
    if (!a) return 1;
    auto report = VerifyStore(a->operator_store(), options);
    if (!report) return Fail(report.error());
    ok = PrintReport("store", "record", *report) && ok;
  }
  return ok ? 0 : 1;
}

}  // namespace

void AddAuditCommands(CLI::App& root, GlobalOptions& g, Handler& h) {
  auto* audit = root.add_subcommand("audit", "Query the audit trail");
  audit->require_subcommand(1);
  static service::AuditListRequest req;
  static std::string since, until;
  static std::int64_t cursor = 0;
  auto* list = audit->add_subcommand("list", "Audit records, newest first, one JSON record per line");
  list->add_option("--device", req.device, "Only this device (MAC)");
  list->add_option("--tenant", req.tenant, "Only records of this tenant's devices and about the tenant");
  list->add_option("--actor", req.actor, "Only this actor, e.g. api:abcd2345 or cli:alice");
  list->add_option("--decision", req.decision, "allow, deny or info");
  list->add_option("--since", since, "From this time (unix seconds or RFC 3339 UTC)");
  list->add_option("--until", until, "Before this time");
  list->add_option("--cursor", cursor, "Continue after the record id printed as the next cursor");
  list->add_option("--limit", req.limit, "At most this many records (1-100000)")->capture_default_str();
  list->callback([&g, &h] {
    h = [&g] {
      req.since = ParseWhen(since);
      req.until = ParseWhen(until);
      if ((!since.empty() && !req.since) || (!until.empty() && !req.until)) {
        return Fail(Error::InvalidArgument("--since/--until: unix seconds or RFC 3339 UTC, e.g. 2025-01-31T12:00:00Z"));
      }
      if (cursor > 0) req.cursor = cursor;
      auto a = OpenApp(g);
      if (!a) return 1;
      service::Queries queries(a->store(), a->operator_store(), a->clock(), std::nullopt);
      auto page = queries.AuditPages(req);
      if (!page) return Fail(page.error());
      for (;;) {
        auto batch = page->Next();
        if (!batch) return Fail(batch.error());
        if (batch->empty()) break;
        for (const auto& e : *batch) fmt::print("{}\n", e.json);
      }
      if (page->next_cursor()) fmt::print(stderr, "more: --cursor {}\n", *page->next_cursor());
      return 0;
    };
  });

  static VerifyArgs verify_args;
  auto* verify = audit->add_subcommand(
      "verify",
      "Check the audit trail's hash chains and signed checkpoints: reports each edited, deleted, reordered or "
      "inserted record and each bad checkpoint with its line (file) or id (store). Exit status 1 when anything "
      "was tampered with; records after the last checkpoint are a warning. Default: the configured audit file");
  verify->add_option("--file", verify_args.file,
                     "This audit file (e.g. a copy, or rotated files concatenated in order)");
  verify->add_flag("--store", verify_args.store, "The store's copy of the audit trail (SQLite or PostgreSQL)");
  verify->add_option("--public-key", verify_args.public_key,
                     "The node's checkpoint key (hex, from `provgate audit pubkey`); default: the configured "
                     "[audit] signing_key when readable, else the key each checkpoint carries (a warning)");
  verify->callback([&g, &h] { h = [&g] { return RunVerify(g, verify_args); }; });

  auto* pubkey = audit->add_subcommand(
      "pubkey", "Print the public key that signs this node's audit checkpoints (hex; creates the key if missing)");
  pubkey->callback([&g, &h] {
    h = [&g] {
      auto config = app::LoadConfig(g.config);
      if (!config) return Fail(config.error());
      if (!crypto::InitCrypto()) return Fail(Error::Internal("libsodium failed to start"));
      auto key = crypto::SigningKey::OpenOrCreateKeyFile(app::AuditSigningKeyPath(*config));
      if (!key) return Fail(key.error());
      fmt::print("{}\n", key->public_key_hex());
      return 0;
    };
  });
}

}  // namespace provgate::cli
