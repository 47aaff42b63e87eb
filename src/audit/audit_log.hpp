// The audit trail: one JSON line per request and per admin action, appended to a file and
// copied into the store. Security-relevant records are durable (fdatasync'd, group-committed
// with concurrent writers) before Write returns, so a response is never sent for a decision
// that a crash could lose (DESIGN.md invariant 7).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "store/store.hpp"

namespace provgate::audit {

enum class Durability { kBuffered, kDurable };

struct AuditRecord {
  TimePoint time;
  std::string kind = "request";  // request | tls | admin | lifecycle
  std::string listener;
  std::string peer;              // "ip:port"
  std::string method;
  std::string file;              // requested target, secrets redacted
  std::string user_agent;
  std::string identity_source;   // client-cert | none
  std::string cert_subject;
  std::string mac;               // authenticated MAC, if any
  std::string url_mac;           // MAC named by the request path, if any (a claim only)
  std::string device;            // device MAC when the identity matched a known device
  std::string decision;          // allow | deny | info
  std::string reason;
  int status = 0;
  std::uint64_t bytes = 0;
  double duration_ms = 0;
  std::string actor;             // admin actions: who ("cli", later "api:<user>")
  nlohmann::json detail = nlohmann::json::object();  // extra fields, never secrets

  nlohmann::json ToJson() const;
};

// An informational record (admin action, lifecycle transition, ban): who did what to which
// device. `device` may be empty.
AuditRecord InfoRecord(TimePoint time, std::string kind, std::string actor, std::string what,
                       std::string device, nlohmann::json detail);

class AuditLog {
 public:
  // Opens (creating, mode 0640) the append-only file. `store` may be null (file only).
  static Result<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& file, store::Store* store);
  ~AuditLog();

  // Thread-safe. With kDurable, returns only after the line is on disk.
  Status Write(const AuditRecord& record, Durability durability);
  // Many records with one write, one fsync and one store transaction (bulk operations).
  Status WriteBatch(std::span<const AuditRecord> records, Durability durability);

 private:
  AuditLog(int fd, store::Store* store) : fd_(fd), store_(store) {}
  Status Sync(std::unique_lock<std::mutex>& lock, std::uint64_t seq);

  int fd_;
  store::Store* store_;
  std::mutex mu_;
  std::condition_variable synced_cv_;
  std::uint64_t written_seq_ = 0;  // lines written to the file
  std::uint64_t synced_seq_ = 0;   // lines known durable
  bool syncing_ = false;
};

}  // namespace provgate::audit
