// Internals of Api shared by api.cpp and the handler files: the route table's entries and
// the per-request context a handler reads and fills.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/query.hpp"
#include "service/admin.hpp"
#include "service/api_keys.hpp"

namespace provgate::api {

enum class BodyKind { kNone, kJson, kCsv };

struct Api::Route {
  const char* method;
  const char* path;
  Permission permission;
  std::variant<Api::Handler, Api::StreamHandler> handler;
  std::vector<std::string> query;  // the query parameters it accepts
  double cost;                     // rate-limit tokens it takes from the key's bucket
  BodyKind body;
};

struct Api::Context {
  Context(const ApiRequest& r, Target t) : request(r), target(std::move(t)), query(target.query) {}

  const ApiRequest& request;
  Target target;
  const Route* route = nullptr;
  std::map<std::string, std::string> params;  // path parameters, decoded
  std::optional<service::Principal> principal;
  QueryReader query;
  // The domain layer as this request's key: its actor, confined to its tenant.
  std::unique_ptr<service::Admin> admin;

  // For the admin audit record: the device and the tenant the action concerned, and the
  // object before and after it (views without secrets). The tenant is set only from an object
  // the domain layer found in the key's scope, never from client input: a record naming a
  // tenant is in that tenant's audit view.
  std::string audit_device;
  std::optional<service::TenantScope> audit_tenant;
  nlohmann::json before;
  nlohmann::json after;

  const std::string& param(const char* name) const { return params.at(name); }
};

}  // namespace provgate::api
