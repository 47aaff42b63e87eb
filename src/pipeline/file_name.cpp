#include "pipeline/file_name.hpp"

namespace provgate::pipeline {
namespace {

constexpr size_t kMaxFileNameLength = 128;

bool IsSafeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

std::optional<std::string_view> ExtractFileName(std::string_view target, std::string_view prefix) {
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view name = path.substr(prefix.size());
  if (name.size() > kMaxFileNameLength || name == "." || name == "..") return std::nullopt;
  for (char c : name) {
    if (!IsSafeChar(c)) return std::nullopt;  // '/', '\\', '%', NUL, ... never reach a router
  }
  return name;
}

}  // namespace provgate::pipeline
