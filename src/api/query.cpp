#include "api/query.hpp"

#include <charconv>

#include "base/clock.hpp"

namespace provgate::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > 32) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text, PercentForm form) {
  const bool field = form == PercentForm::kFormField;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && field) {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    const bool line_break = c == '\t' || c == '\r' || c == '\n';
    if ((u < 0x20 && !(field && line_break)) || u == 0x7f) return std::nullopt;
    out.push_back(c);
  }
  return out;
}

Result<Target> ParseTarget(std::string_view target) {
  if (target.size() > kMaxTargetBytes) return Error::InvalidArgument("request target is too long");
  if (target.empty() || target.front() != '/') return Error::InvalidArgument("request target must be a path");
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  Target out;
  size_t pos = 1;
  for (;;) {
    const size_t end = path.find('/', pos);
    const std::string_view raw = path.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    auto seg = PercentDecode(raw);
    if (!seg || seg->empty() || *seg == "." || *seg == "..") {
      return Error::NotFound("no such resource");
    }
    out.segments.push_back(std::move(*seg));
    if (out.segments.size() > kMaxPathSegments) return Error::NotFound("no such resource");
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  if (query.empty()) return out;
  for (;;) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    if (!ValidName(name)) {
      return Error::InvalidArgument("query: '" + std::string(name.substr(0, 32)) + "' is not a parameter name");
    }
    std::string value_text(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    for (auto& c : value_text) c = c == '+' ? ' ' : c;
    auto value = PercentDecode(value_text);
    if (!value) return Error::InvalidArgument(std::string(name) + ": malformed percent-encoding");
    for (const auto& [n, v] : out.query) {
      if (n == name) return Error::InvalidArgument(std::string(name) + ": given more than once");
    }
    if (out.query.size() >= kMaxQueryParams) return Error::InvalidArgument("query: too many parameters");
    out.query.emplace_back(std::string(name), std::move(*value));
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

const std::string* QueryReader::Find(std::string_view name) const {
  for (const auto& [n, v] : query_) {
    if (n == name) return &v;
  }
  return nullptr;
}

void QueryReader::Fail(std::string_view name, std::string detail) {
  if (!problem_) problem_ = FieldProblem(std::string(name), std::move(detail));
}

std::string QueryReader::Text(std::string_view name, size_t max_bytes) {
  const auto* v = Find(name);
  if (v == nullptr) return "";
  if (v->size() > max_bytes) {
    Fail(name, "longer than " + std::to_string(max_bytes) + " bytes");
    return "";
  }
  if (v->empty()) Fail(name, "must not be empty");
  return *v;
}

std::optional<std::int64_t> QueryReader::Int(std::string_view name, std::int64_t min, std::int64_t max) {
  const auto* v = Find(name);
  if (v == nullptr) return std::nullopt;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < min || n > max) {
    Fail(name, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> QueryReader::Bool(std::string_view name) {
  const auto* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (*v == "true") return true;
  if (*v == "false") return false;
  Fail(name, "must be true or false");
  return std::nullopt;
}

std::optional<std::int64_t> QueryReader::Time(std::string_view name) {
  const auto* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->empty() && v->find_first_not_of("0123456789") == std::string::npos) {
    return Int(name, 0, 253402300799);
  }
  std::string text = *v;
  // The short form of RFC 3339 UTC, without milliseconds.
  if (text.size() == 20 && text.back() == 'Z') text = text.substr(0, 19) + ".000Z";
  if (auto t = ParseRfc3339(text)) return ToUnix(*t);
  Fail(name, "must be unix seconds or an RFC 3339 UTC time such as 2025-01-31T12:00:00Z");
  return std::nullopt;
}

}  // namespace provgate::api
