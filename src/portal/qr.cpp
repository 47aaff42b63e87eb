#include "portal/qr.hpp"

#include <fmt/format.h>
#include <qrencode.h>

#include <memory>

namespace provgate::portal {
namespace {

constexpr int kQuietZone = 4;

using QrPtr = std::unique_ptr<QRcode, decltype(&QRcode_free)>;

}  // namespace

void AppendPercentEncoded(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
}

Result<std::string> QrSvg(std::string_view text, int pixels) {
  const std::string input(text);
  QrPtr qr(QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  if (!qr) return Error::InvalidArgument("the text does not fit a QR code");
  const int width = qr->width;
  const int size = width + 2 * kQuietZone;
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      // Bit 0 of each module is its colour (1 = dark).
      if ((qr->data[static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)] & 1) != 0) {
        path += fmt::format("M{} {}h1v1h-1z", x + kQuietZone, y + kQuietZone);
      }
    }
  }
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" width=\"{1}\" height=\"{1}\" "
      "shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">"
      "<rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{2}\"/></svg>",
      size, pixels, path);
}

std::string SipAccountUri(const core::Line& line, std::string_view password) {
  std::string out = "sip:";
  AppendPercentEncoded(out, line.user);
  out += ':';
  AppendPercentEncoded(out, password);
  out += fmt::format("@{}:{};transport={}", line.registrar, line.port, core::TransportName(line.transport));
  return out;
}

}  // namespace provgate::portal
