// Helpers the audit tests share: a fresh temporary path, a record's JSON line, a minimal
// allowed record.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "audit/record.hpp"

namespace provgate::audit::test_support {

// `name` under the test temporary folder, with no file there yet.
inline std::filesystem::path TempFile(const std::string& name) {
  auto p = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::remove(p);
  return p;
}

// A record as another process (no run, no sequence number) writes it.
inline std::string JsonLine(const AuditRecord& r) {
  std::string out;
  r.AppendJson(out);
  return out;
}

inline AuditRecord Allowed() {
  AuditRecord r;
  r.decision = "allow";
  return r;
}

}  // namespace provgate::audit::test_support
