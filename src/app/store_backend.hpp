// The one place that turns the config's [store] section into a store backend: SQLite at
// store.path, or PostgreSQL at store.url (docs/database.md), for every role the app opens.
#pragma once

#include <cstddef>
#include <memory>

#include "app/config.hpp"
#include "base/clock.hpp"
#include "base/result.hpp"
#include "crypto/secret_box.hpp"
#include "portal/user_store.hpp"
#include "store/operator_store.hpp"
#include "store/store.hpp"

namespace provgate::app {

enum class Backend : std::uint8_t { kSqlite, kPostgres };
Backend BackendOf(const Config& c);

// Opens the configured store, applying pending migrations. `connections` caps a
// PostgreSQL store's pool (0: store.pool_size); SQLite has one connection per store.
Result<std::unique_ptr<store::Store>> OpenStore(const Config& c, const crypto::SecretBox& box, const Clock& clock,
                                                size_t connections = 0);
// The operator plane's store and the portal's users, on the same backend, each with
// connections of its own; open the store first (it migrates).
Result<std::unique_ptr<store::OperatorStore>> OpenOperatorStore(const Config& c);
Result<std::unique_ptr<portal::UserStore>> OpenPortalUsers(const Config& c);

}  // namespace provgate::app
