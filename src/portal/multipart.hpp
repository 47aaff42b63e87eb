// A parser of multipart/form-data bodies (RFC 7578), the one way a browser uploads a file
// without script: the portal's CSV import. Trust level: the body comes from a signed-in
// browser but is read before its CSRF token is checked, so it is treated as hostile: bounded
// (kMaxMultipartParts parts, kMaxPartHeaderBytes of headers per part), no exceptions, and
// every part a view into the body (no copy of an upload). Fuzzed: fuzz/portal_multipart_fuzz.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::portal {

inline constexpr size_t kMaxMultipartParts = 8;
inline constexpr size_t kMaxPartHeaderBytes = 1024;
inline constexpr size_t kMaxBoundaryBytes = 70;  // RFC 2046 section 5.1.1

struct MultipartPart {
  std::string name;       // the Content-Disposition's name
  std::string filename;   // its filename, "" for a plain field
  std::string_view body;  // a view into the parsed body
};

// The boundary of a `multipart/form-data; boundary=...` Content-Type (the type compared
// without case, the boundary optionally quoted, 1-70 characters). kInvalidArgument otherwise.
Result<std::string> MultipartBoundary(std::string_view content_type);

// The parts of `body`, in order: each opens with "--boundary" CRLF, then header lines up to an
// empty line (a Content-Disposition of form-data with a name is required; other headers are
// ignored), then the part's bytes up to CRLF "--boundary"; the last delimiter is
// "--boundary--". Bytes before the first delimiter and after the last are ignored (RFC 2046
// preamble and epilogue). kInvalidArgument for anything else, a repeated name or more than
// kMaxMultipartParts parts. The parts view `body`, which must outlive them.
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view boundary, std::string_view body);

}  // namespace provgate::portal
