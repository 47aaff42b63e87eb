// The [[admin]] tables of provgate.toml (docs/configuration.md): the admin listeners. None
// configured means no admin plane at all. Every key is checked; an unknown key is an error,
// so a misspelt setting is never silently ignored.
#pragma once

#include <filesystem>
#include <vector>

#include <toml++/toml.h>

#include "api/admin_listener.hpp"
#include "base/result.hpp"
#include "http/listener.hpp"

namespace provgate::app {

// `device_listeners` are checked against: an admin listener never shares a port with one.
Result<std::vector<api::AdminListenerConfig>> ParseAdminListeners(
    const toml::table& root, const std::filesystem::path& file, const std::filesystem::path& base,
    const std::vector<http::ListenerConfig>& device_listeners);

}  // namespace provgate::app
