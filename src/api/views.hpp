// JSON views of domain objects as the admin API shows them. Built field by field from what
// may be shown: a secret has no field here, only whether one is stored.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model.hpp"
#include "defense/ban_store.hpp"
#include "store/operator_store.hpp"

namespace provgate::api {

nlohmann::json TimeJson(const std::optional<std::int64_t>& unix_seconds);
nlohmann::json TenantJson(const core::Tenant& t);
// `tenant` is the device's tenant name, "" in stock.
nlohmann::json DeviceJson(const store::DeviceSummary& d, const std::string& tenant);
nlohmann::json DeviceJson(const core::Device& d, const std::string& tenant);
// `has_password` whether a password is stored; the password itself is never read here.
nlohmann::json LineJson(const core::Line& l, bool has_password);
nlohmann::json BanJson(const defense::Ban& b);

}  // namespace provgate::api
