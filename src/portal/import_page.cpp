// The CSV device import: a form that uploads a shipping manifest (docs/lifecycle.md, the
// columns of `provgate device import` and POST /api/v1/devices/import), checked and imported
// by service::InventoryImport exactly as for the API, confined to the user's tenant. The
// answer is a result page: rows processed, imported and failed, and each bad row with its
// line number (nothing is imported when any row is bad).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/api.hpp"
#include "api/problem.hpp"
#include "portal/html.hpp"
#include "portal/portal.hpp"
#include "portal/request.hpp"
#include "service/inventory.hpp"

namespace provgate::portal {

using api::ApiResponse;
using api::Permission;

namespace {

void UploadForm(Html& h, const Session& s) {
  h.Raw(
       "<p>A CSV file with a header line: <code>mac</code>, <code>vendor</code>, <code>model</code> (required), "
       "<code>tenant</code>, <code>serial</code>, <code>line&lt;N&gt;_user</code>, "
       "<code>line&lt;N&gt;_registrar</code> and the other line columns of the inventory import. ")
      .Text(fmt::format("At most {} MiB. ", kMaxImportUploadBytes / (1024 * 1024)))
      .Raw(
          "Every row is checked first; when any row is bad, nothing is imported.</p>"
          "<form method=\"post\" action=\"/portal/import\" enctype=\"multipart/form-data\" class=\"filters\">")
      .Csrf(s.csrf_token)
      .Raw(
          "<label>CSV file <input type=\"file\" name=\"file\" id=\"import-file\" accept=\".csv,text/csv\" "
          "required></label> <button type=\"submit\" id=\"import\">Import</button></form>");
}

// The summary line and, when rows were bad, the table of their problems.
void ResultBody(Html& h, size_t rows, const service::ImportResult& result) {
  const size_t failed = result.problem_count;
  h.Raw("<div")
      .Attr("class", failed == 0 ? "notice" : "error")
      .Raw(" id=\"import-summary\">")
      .Text(fmt::format("Rows processed: {}. Imported: {}. Failed: {}.", rows, result.imported, failed))
      .Raw(failed == 0 ? "" : " Nothing was imported: correct the rows below and upload the file again.")
      .Raw("</div>");
  if (failed == 0) return;
  h.Raw("<table id=\"import-errors\"><thead><tr><th>Line</th><th>Problem</th></tr></thead><tbody>");
  for (const auto& p : result.problems) {
    h.Raw("<tr><td>").Text(std::to_string(p.line)).Raw("</td><td>").Text(p.reason).Raw("</td></tr>");
  }
  h.Raw("</tbody></table>");
  if (failed > result.problems.size()) {
    h.Raw("<p>").Text(fmt::format("{} more bad rows are not listed.", failed - result.problems.size())).Raw("</p>");
  }
}

}  // namespace

ApiResponse Portal::ImportForm(Request& r) {
  const Session& s = *r.session;
  if (!api::RoleAllows(s.user.role, Permission::kDeviceWrite)) return ErrorPage(r, 403, "Your role may not import.");
  Html h;
  UploadForm(h, s);
  return HtmlResponse(200, Page("Import devices", s.user.name, s.csrf_token, h.Take()));
}

ApiResponse Portal::Import(Request& r) {
  const Session& s = *r.session;
  const auto scope = ScopeId(s);
  if (!api::RoleAllows(s.user.role, Permission::kDeviceWrite)) {
    Audit(r, s.user.actor(), "portal import refused: role", 403, "", scope, audit::Durability::kWindowed);
    return ErrorPage(r, 403, "Your role may not import.");
  }
  auto admin = AdminFor(deps_, s);
  auto import = admin->StartImport();
  if (!import) return ErrorPage(r, 503, "Imports are not available right now.");
  // A final error (malformed CSV, a bad header) is kept by the import and returned by Finish.
  (void)(*import)->Feed(r.upload);
  auto result = (*import)->Finish({});
  const size_t rows = (*import)->rows();
  Html h;
  if (!result) {
    const int status = api::StatusOf(result.error().code);
    Audit(r, s.user.actor(), "portal import refused", status, "", scope, audit::Durability::kWindowed);
    if (status >= 500) return ErrorPage(r, status, "The import failed; nothing was imported.");
    h.Raw("<div class=\"error\" id=\"import-summary\">")
        .Text(fmt::format("The file could not be read ({}); nothing was imported.", result.error().message))
        .Raw("</div>");
    UploadForm(h, s);
    return HtmlResponse(422, Page("Import devices", s.user.name, s.csrf_token, h.Take()));
  }
  const bool imported = result->problem_count == 0;
  if (!Audit(
          r, s.user.actor(),
          fmt::format("portal import: {} rows, {} imported, {} failed", rows, result->imported, result->problem_count),
          imported ? 200 : 422, "", scope, imported ? audit::Durability::kDurable : audit::Durability::kWindowed) &&
      imported) {
    return NotAudited(r);
  }
  ResultBody(h, rows, *result);
  UploadForm(h, s);
  return HtmlResponse(imported ? 200 : 422, Page("Import devices", s.user.name, s.csrf_token, h.Take()));
}

}  // namespace provgate::portal
