#include "app/store_backend.hpp"

#include "portal/postgres_user_store.hpp"
#include "portal/sqlite_user_store.hpp"
#include "store/postgres/operator_store.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/operator_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace provgate::app {

Backend BackendOf(const Config& c) { return c.store_url.empty() ? Backend::kSqlite : Backend::kPostgres; }

Result<std::unique_ptr<store::Store>> OpenStore(const Config& c, const crypto::SecretBox& box, const Clock& clock,
                                                size_t connections) {
  if (BackendOf(c) == Backend::kPostgres) {
    PG_TRY(auto pg,
           store::PostgresStore::Open(c.store_url, connections == 0 ? c.store_pool_size : connections, box, clock));
    return std::unique_ptr<store::Store>(std::move(pg));
  }
  PG_TRY(auto lite, store::SqliteStore::Open(c.db_path, box, clock));
  return std::unique_ptr<store::Store>(std::move(lite));
}

namespace {
// The operator plane and the portal are light users (an API request, a sign-in).
constexpr size_t kSideConnections = 2;
}  // namespace

Result<std::unique_ptr<store::OperatorStore>> OpenOperatorStore(const Config& c) {
  if (BackendOf(c) == Backend::kPostgres) {
    PG_TRY(auto pg, store::PostgresOperatorStore::Open(c.store_url, kSideConnections));
    return std::unique_ptr<store::OperatorStore>(std::move(pg));
  }
  PG_TRY(auto lite, store::SqliteOperatorStore::Open(c.db_path));
  return std::unique_ptr<store::OperatorStore>(std::move(lite));
}

Result<std::unique_ptr<portal::UserStore>> OpenPortalUsers(const Config& c) {
  if (BackendOf(c) == Backend::kPostgres) {
    PG_TRY(auto pg, portal::PostgresUserStore::Open(c.store_url, kSideConnections));
    return std::unique_ptr<portal::UserStore>(std::move(pg));
  }
  PG_TRY(auto lite, portal::SqliteUserStore::Open(c.db_path));
  return std::unique_ptr<portal::UserStore>(std::move(lite));
}

}  // namespace provgate::app
