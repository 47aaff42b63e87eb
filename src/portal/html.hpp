// Building the portal's HTML: every piece of text that did not come from this file's
// callers as literal markup goes through Html::Text or Html::Attr, which escape & < > " '
// (render::Format::kXml, the escaping the vendor templates use), so a display name or a
// label holding markup renders as text. Attribute values are always double-quoted.
#pragma once

#include <string>
#include <string_view>

namespace provgate::portal {

class Html {
 public:
  // Literal markup written by the portal itself, never data.
  Html& Raw(std::string_view markup) {
    out_ += markup;
    return *this;
  }
  // Text content, escaped.
  Html& Text(std::string_view text);
  // ` name="value"` with the value escaped.
  Html& Attr(std::string_view name, std::string_view value);
  // A hidden CSRF field for a state-changing form.
  Html& Csrf(std::string_view token) {
    Raw("<input type=\"hidden\" name=\"csrf\"");
    Attr("value", token);
    return Raw(">");
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// The page around `body`: head with the portal's own stylesheet and script, a header
// naming `user` with sign-out forms (when signed in, i.e. csrf is not empty).
std::string Page(std::string_view title, std::string_view user, std::string_view csrf, std::string_view body);

}  // namespace provgate::portal
