#include "portal/assets.hpp"

namespace provgate::portal {
namespace {

constexpr std::string_view kCss = R"css(
body { font-family: system-ui, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1.2em; background: #1d2430; color: #fff; }
header a { color: #fff; text-decoration: none; }
header .brand { font-weight: bold; }
header .who { margin-left: auto; display: flex; gap: .5em; align-items: center; }
header form { display: inline; }
main { padding: 1em 1.5em; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #dde1e6; }
.notice { padding: .6em 1em; background: #e6f4ea; border: 1px solid #9bd3ae; margin-bottom: 1em; }
.error { padding: .6em 1em; background: #fde8e8; border: 1px solid #f1a7a7; margin-bottom: 1em; }
.actions form { display: inline-block; margin: 0 1em .5em 0; padding: .5em; background: #fff; border: 1px solid #dde1e6; }
.locked { color: #b42318; font-weight: bold; }
form.login { max-width: 22em; display: grid; gap: .6em; }
code { background: #eef0f3; padding: 0 .2em; }
.qr svg { display: block; margin: .5em 0; }
figure.chart { margin: .5em 0 1.5em; padding: .5em; background: #fff; border: 1px solid #dde1e6; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
table.chart-table { width: auto; }
nav a { margin-right: .8em; }
form.reveal { display: block; margin: .5em 0; padding: .5em; background: #fff; border: 1px solid #dde1e6; }
)css";

// Forms marked data-confirm ask before they are sent; the server still requires the form's
// own confirmation field, so the script is a convenience, not a control.
constexpr std::string_view kJs = R"js(
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
});
)js";

}  // namespace

std::optional<Asset> FindAsset(std::string_view name) {
  if (name == "portal.css") return Asset{"text/css; charset=utf-8", kCss};
  if (name == "portal.js") return Asset{"text/javascript; charset=utf-8", kJs};
  return std::nullopt;
}

}  // namespace provgate::portal
