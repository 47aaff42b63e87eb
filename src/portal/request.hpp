// Internals of Portal shared by portal.cpp and pages.cpp: the per-request state and the
// response builders every page uses.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/query.hpp"
#include "portal/portal.hpp"
#include "service/admin.hpp"

namespace provgate::portal {

struct Portal::Request {
  const api::ApiRequest& http;
  std::string path;  // the target without its query, for audit records
  api::Target target;
  std::map<std::string, std::string> form;  // a POST's fields
  std::string_view upload;                  // a multipart POST's "file" part (a view into http.body)
  std::optional<Session> session;
};

// The value of query parameter `name`, nullptr when absent.
const std::string* QueryValue(const api::Target& t, std::string_view name);
// `text` as a decimal number from min to max, nothing for anything else.
std::optional<std::int64_t> WholeNumber(std::string_view text, std::int64_t min, std::int64_t max);
// A time for people (RFC 3339), "-" for none.
std::string When(const std::optional<std::int64_t>& t);
// The tenant the session's user is confined to; nullopt for platform users.
std::optional<std::int64_t> ScopeId(const Session& s);
// The domain operations as the session's user, confined to its tenant.
std::unique_ptr<service::Admin> AdminFor(const PortalDeps& deps, const Session& s);

// An HTML response with the portal's CSP (the listener adds the other security headers).
api::ApiResponse HtmlResponse(int status, std::string body);
// 303 See Other to a portal path.
api::ApiResponse Redirect(std::string location);
// A page saying `message`, with the header of the signed-in user when there is one.
api::ApiResponse ErrorPage(const Portal::Request& r, int status, std::string_view message);

}  // namespace provgate::portal
