// The running admin plane of `provgate serve`: the REST API and its listeners on a thread of
// their own, so operators never hold up the device plane's serving threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "api/admin_listener.hpp"
#include "api/api.hpp"
#include "app/config.hpp"
#include "portal/portal.hpp"

namespace provgate::app {

class AdminPlane {
 public:
  // Nothing (null) when the config has no [[admin]] table. Binds every admin listener
  // before returning, so a port in use fails the start. Every admin listener serves the
  // REST API and the web portal.
  static Result<std::unique_ptr<AdminPlane>> Start(const Config& config, api::ApiDeps deps,
                                                   portal::PortalDeps portal_deps);
  // Stops accepting and joins the thread.
  ~AdminPlane();
  void Stop();
  // Each listener's name and bound port, in config order.
  std::vector<std::pair<std::string, std::uint16_t>> Ports() const;

 private:
  AdminPlane() = default;
  boost::asio::io_context ioc_{1};
  std::vector<std::unique_ptr<api::Api>> apis_;
  std::vector<std::unique_ptr<portal::Portal>> portals_;
  std::vector<std::unique_ptr<api::AdminListener>> listeners_;
  std::thread thread_;
};

}  // namespace provgate::app
