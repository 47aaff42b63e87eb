#include "portal/multipart.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace provgate::portal {

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class Need { kRequired, kOptional };

// The value of parameter `key` in `; key=value; key="value"` (no escapes inside quotes: a
// browser percent-encodes or drops a quote in a name or file name). kInvalidArgument when
// malformed, repeated or absent but required; "" when absent and optional.
Result<std::string> Parameter(std::string_view params, std::string_view key, Need need) {
  std::optional<std::string> found;
  while (!params.empty()) {
    if (params.front() != ';') return Error::InvalidArgument("multipart: malformed parameters");
    params.remove_prefix(1);
    params = Trim(params);
    const auto eq = params.find('=');
    if (eq == std::string_view::npos) return Error::InvalidArgument("multipart: parameter without a value");
    const auto name = Trim(params.substr(0, eq));
    params.remove_prefix(eq + 1);
    std::string_view value;
    if (!params.empty() && params.front() == '"') {
      const auto close = params.find('"', 1);
      if (close == std::string_view::npos) return Error::InvalidArgument("multipart: unterminated quote");
      value = params.substr(1, close - 1);
      params.remove_prefix(close + 1);
    } else {
      const auto end = params.find(';');
      value = Trim(params.substr(0, end));
      params.remove_prefix(end == std::string_view::npos ? params.size() : end);
    }
    params = Trim(params);
    if (IEquals(name, key)) {
      if (found) return Error::InvalidArgument("multipart: a repeated parameter");
      found = std::string(value);
    }
  }
  if (!found && need == Need::kRequired) return Error::InvalidArgument("multipart: a parameter is missing");
  return found.value_or("");
}

// The name and file name of a part from its header block (lines separated by CRLF).
Result<MultipartPart> PartHeaders(std::string_view headers) {
  std::optional<MultipartPart> part;
  while (!headers.empty()) {
    const auto eol = headers.find("\r\n");
    const auto line = headers.substr(0, eol);
    headers.remove_prefix(eol == std::string_view::npos ? headers.size() : eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return Error::InvalidArgument("multipart: malformed header line");
    if (!IEquals(Trim(line.substr(0, colon)), "content-disposition")) continue;
    if (part) return Error::InvalidArgument("multipart: a repeated Content-Disposition");
    auto value = Trim(line.substr(colon + 1));
    const auto semi = value.find(';');
    if (!IEquals(Trim(value.substr(0, semi)), "form-data") || semi == std::string_view::npos) {
      return Error::InvalidArgument("multipart: not form-data");
    }
    value.remove_prefix(semi);
    MultipartPart p;
    PG_TRY(p.name, Parameter(value, "name", Need::kRequired));
    PG_TRY(p.filename, Parameter(value, "filename", Need::kOptional));
    if (p.name.empty()) return Error::InvalidArgument("multipart: a part without a name");
    part = std::move(p);
  }
  if (!part) return Error::InvalidArgument("multipart: a part without Content-Disposition");
  return std::move(*part);
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  if (semi == std::string_view::npos || !IEquals(Trim(content_type.substr(0, semi)), "multipart/form-data")) {
    return Error::InvalidArgument("not multipart/form-data");
  }
  PG_TRY(auto boundary, Parameter(Trim(content_type.substr(semi)), "boundary", Need::kRequired));
  if (boundary.empty() || boundary.size() > kMaxBoundaryBytes ||
      std::any_of(boundary.begin(), boundary.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e;
      })) {
    return Error::InvalidArgument("multipart: a bad boundary");
  }
  return boundary;
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view boundary, std::string_view body) {
  if (boundary.empty() || boundary.size() > kMaxBoundaryBytes) return Error::InvalidArgument("multipart: bad boundary");
  const std::string first = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + first;
  // The first delimiter opens the body or follows the preamble's CRLF.
  size_t at = body.starts_with(first) ? 0 : body.find(delimiter);
  if (at == std::string_view::npos) return Error::InvalidArgument("multipart: no part");
  at += body.starts_with(first) ? first.size() : delimiter.size();
  std::vector<MultipartPart> parts;
  for (;;) {
    const auto rest = body.substr(at);
    if (rest.starts_with("--")) return parts;  // the close delimiter; the epilogue is ignored
    if (!rest.starts_with("\r\n")) return Error::InvalidArgument("multipart: malformed delimiter");
    if (parts.size() == kMaxMultipartParts) return Error::InvalidArgument("multipart: too many parts");
    at += 2;
    if (body.substr(at).starts_with("\r\n")) {
      return Error::InvalidArgument("multipart: a part without Content-Disposition");
    }
    const auto header_end = body.find("\r\n\r\n", at);
    if (header_end == std::string_view::npos || header_end - at > kMaxPartHeaderBytes) {
      return Error::InvalidArgument("multipart: part headers missing or too long");
    }
    const auto headers = body.substr(at, header_end - at);
    const size_t body_start = header_end + 4;
    PG_TRY(auto part, PartHeaders(headers));
    const auto end = body.find(delimiter, body_start);
    if (end == std::string_view::npos) return Error::InvalidArgument("multipart: unterminated part");
    part.body = body.substr(body_start, end - body_start);
    if (std::any_of(parts.begin(), parts.end(), [&](const MultipartPart& p) { return p.name == part.name; })) {
      return Error::InvalidArgument("multipart: a repeated field");
    }
    parts.push_back(std::move(part));
    at = end + delimiter.size();
  }
}

}  // namespace provgate::portal
