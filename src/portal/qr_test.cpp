#include "portal/qr.hpp"

#include <gtest/gtest.h>
#include <qrencode.h>

#include <memory>
#include <regex>

namespace provgate::portal {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(QrSvg, DrawsEveryDarkModuleOfTheCodeInsideAQuietZone) {
  const std::string text = "sip:1001:pw@sip.example.net:5061;transport=tls";
  const auto svg = QrSvg(text, 256);
  ASSERT_TRUE(svg) << svg.error().message;
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_M),
                                                     &QRcode_free);
  ASSERT_TRUE(qr);
  size_t dark = 0;
  const auto modules = static_cast<size_t>(qr->width) * static_cast<size_t>(qr->width);
  for (size_t i = 0; i < modules; ++i) dark += qr->data[i] & 1U;
  EXPECT_EQ(Count(*svg, "h1v1h-1z"), dark);
  const int size = qr->width + 8;
  EXPECT_NE(svg->find("viewBox=\"0 0 " + std::to_string(size) + " " + std::to_string(size) + "\""), std::string::npos);
  EXPECT_NE(svg->find("width=\"256\""), std::string::npos);
  // The top-left finder pattern starts right after the quiet zone.
  EXPECT_NE(svg->find("M4 4h1v1h-1z"), std::string::npos);
  EXPECT_EQ(svg->find("M3 "), std::string::npos);
  // Markup only: no script, no style attribute.
  EXPECT_EQ(svg->find("script"), std::string::npos);
  EXPECT_EQ(svg->find("style"), std::string::npos);
}

TEST(QrSvg, RefusesTextTooLongForAnyVersion) { EXPECT_FALSE(QrSvg(std::string(4000, 'x'), 256)); }

TEST(SipAccountUri, PercentEncodesUserAndPassword) {
  core::Line l;
  l.user = "alice@home";
  l.registrar = "sip.example.net";
  l.port = 5061;
  l.transport = core::Transport::kTls;
  EXPECT_EQ(SipAccountUri(l, "p:w@d;x y%"), "sip:alice%40home:p%3Aw%40d%3Bx%20y%25@sip.example.net:5061;transport=tls");
  l.user = "1001";
  l.port = 5060;
  l.transport = core::Transport::kUdp;
  EXPECT_EQ(SipAccountUri(l, "Abc-9_x.~"), "sip:1001:Abc-9_x.~@sip.example.net:5060;transport=udp");
}

}  // namespace
}  // namespace provgate::portal
