#include "portal/html.hpp"

#include "render/escape.hpp"

namespace provgate::portal {

Html& Html::Text(std::string_view text) {
  render::AppendEscaped(out_, text, render::Format::kXml);
  return *this;
}

Html& Html::Attr(std::string_view name, std::string_view value) {
  out_ += ' ';
  out_ += name;
  out_ += "=\"";
  render::AppendEscaped(out_, value, render::Format::kXml);
  out_ += '"';
  return *this;
}

std::string Page(std::string_view title, std::string_view user, std::string_view csrf, std::string_view body) {
  Html h;
  h.Raw(
       "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>")
      .Text(title)
      .Raw(
          " - provgate</title><link rel=\"stylesheet\" href=\"/portal/static/portal.css\">"
          "<script src=\"/portal/static/portal.js\" defer></script></head><body><header>"
          "<a class=\"brand\" href=\"/portal/devices\">provgate</a>");
  if (!csrf.empty()) {
    h.Raw(
         "<nav><a href=\"/portal/overview\" id=\"nav-overview\">Overview</a> <a href=\"/portal/devices\">Devices</a> "
         "<a href=\"/portal/import\" id=\"nav-import\">Import</a> "
         "<a href=\"/portal/audit\" id=\"nav-audit\">Audit</a> <a href=\"/portal/bans\" "
         "id=\"nav-bans\">Bans</a> <a href=\"/portal/users\" id=\"nav-users\">Users</a></nav><div class=\"who\">Signed "
         "in as <b id=\"who\">")
        .Text(user)
        .Raw(
            "</b> <a href=\"/portal/account/totp\" id=\"nav-totp\">Authenticator</a> <form method=\"post\" "
            "action=\"/portal/logout\">")
        .Csrf(csrf)
        .Raw(
            "<button type=\"submit\" id=\"sign-out\">Sign out</button></form>"
            "<form method=\"post\" action=\"/portal/logout-all\">")
        .Csrf(csrf)
        .Raw("<button type=\"submit\" id=\"sign-out-all\">Sign out everywhere</button></form></div>");
  }
  h.Raw("</header><main><h1>").Text(title).Raw("</h1>").Raw(body).Raw("</main></body></html>\n");
  return h.Take();
}

}  // namespace provgate::portal
