// What secrets look like in logs: never present. Apply to every request target and
// Authorization value before it reaches the audit log, spdlog or an error message.
#pragma once

#include <string>
#include <string_view>

namespace provgate::defense {

// Replaces the segment after any "/p/" with "[redacted]" ("/p/[redacted]/y000000000044.cfg"),
// also any other path segment that could be a token (26+ characters of the base32
// alphabet, any case), and a whole query string ("?[redacted]"): phones put odd things
// there. Never fails; the result is at most a little longer than the input.
std::string RedactTarget(std::string_view target);
// The same into `out` (replacing what it held, reusing its memory).
void RedactTarget(std::string_view target, std::string& out);

// "Digest username=\"...\", [redacted]", "Basic [redacted]", "<scheme> [redacted]" or
// "[redacted]". The username of a parseable Digest header is kept (it names the device and
// is not a secret), with quotes, backslashes and non-printable bytes replaced by '?' and cut
// at 64 characters.
std::string RedactAuthorization(std::string_view header_value);

}  // namespace provgate::defense
