// QR codes drawn as inline SVG (libqrencode), and the text a softphone scans for a SIP
// account. Inline SVG is markup, not script or style, so the portal's CSP allows it.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "core/model.hpp"

namespace provgate::portal {

// `text` as a QR code (error correction M, byte mode, the smallest version that holds it):
// an <svg> element with a white background, one black path of the modules and a four-module
// quiet zone, `pixels` wide. kInvalidArgument when the text does not fit a QR code.
Result<std::string> QrSvg(std::string_view text, int pixels);

// `text` appended to `out` percent-encoded, every byte but RFC 3986 unreserved characters.
void AppendPercentEncoded(std::string& out, std::string_view text);

// The SIP URI of a line with its password in the user part (RFC 3261 section 19.1.1):
// sip:<user>:<password>@<registrar>:<port>;transport=<udp|tcp|tls>, user and password
// percent-encoded except RFC 3986 unreserved characters.
std::string SipAccountUri(const core::Line& line, std::string_view password);

}  // namespace provgate::portal
