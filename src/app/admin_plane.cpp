#include "app/admin_plane.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <system_error>

namespace provgate::app {

Result<std::unique_ptr<AdminPlane>> AdminPlane::Start(const Config& config, api::ApiDeps deps,
                                                      portal::PortalDeps portal_deps) {
  if (config.admin.empty()) return std::unique_ptr<AdminPlane>();
  std::unique_ptr<AdminPlane> plane(new AdminPlane());
  for (const auto& lc : config.admin) {
    if (!lc.api.imports_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(lc.api.imports_dir, ec);
      std::filesystem::permissions(lc.api.imports_dir, std::filesystem::perms::owner_all, ec);
    }
    PG_TRY(auto api, api::Api::Create(deps, lc.api));
    portal::PortalOptions portal_options;
    portal_options.engineer_window_seconds = lc.engineer_window_seconds;
    portal_options.sign_in_failures = lc.sign_in_failures;
    auto portal = std::make_unique<portal::Portal>(portal_deps, portal_options);
    PG_TRY(auto listener, api::AdminListener::Create(plane->ioc_, lc, *api, deps.audit, deps.clock, portal.get()));
    spdlog::info("admin listener {} on {}:{} (operator client certificates {})", listener->name(), lc.bind,
                 listener->port(), tls::ClientCertModeName(lc.tls.client_cert));
    listener->Start();
    plane->apis_.push_back(std::move(api));
    plane->portals_.push_back(std::move(portal));
    plane->listeners_.push_back(std::move(listener));
  }
  plane->thread_ = std::thread([p = plane.get()] {
    pthread_setname_np(pthread_self(), "pg-admin");
    p->ioc_.run();
  });
  return plane;
}

void AdminPlane::Stop() {
  for (auto& l : listeners_) l->Stop();
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::pair<std::string, std::uint16_t>> AdminPlane::Ports() const {
  std::vector<std::pair<std::string, std::uint16_t>> ports;
  for (const auto& l : listeners_) ports.emplace_back(l->name(), l->port());
  return ports;
}

AdminPlane::~AdminPlane() { Stop(); }

}  // namespace provgate::app
