// Domain operations on tenants, devices and lines: the one place their rules live, called
// by the CLI today and by the REST API/portal later. Every change writes an admin audit
// record naming the actor. Input arrives as text (CLI arguments, API fields) and is
// parsed here into checked types, with errors an operator can act on.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "core/model.hpp"
#include "store/store.hpp"
#include "vendors/vendor.hpp"

namespace provgate::service {

struct NewDevice {
  std::string mac;
  std::string vendor;
  std::string model;
  std::string tenant;  // empty: stays in stock
  std::string serial;
};

struct LineChange {
  int index = 1;
  std::string display_name;
  std::string user;
  std::string auth_user;
  std::string registrar;
  int port = 5060;
  std::string transport = "udp";
  std::optional<std::string> password;  // explicit password
  bool generate_password = false;       // or a generated one, returned once
};

struct DeviceDetails {
  core::Device device;
  std::optional<core::Tenant> tenant;
  std::vector<core::Line> lines;  // passwords removed; has_password says whether one is stored
  std::vector<bool> has_password;
};

class Admin {
 public:
  Admin(store::Store& store, audit::AuditLog& audit, const vendors::Registry& vendors,
        const Clock& clock, std::string actor);

  Result<core::Tenant> AddTenant(const std::string& name, const std::string& display_name,
                                 int window_days);
  Result<std::vector<core::Tenant>> ListTenants();

  // Assigning a tenant opens the provisioning window (tenant.window_days).
  Result<core::Device> AddDevice(const NewDevice& d);
  Result<std::vector<core::Device>> ListDevices(const std::string& tenant, const std::string& state);
  Result<DeviceDetails> ShowDevice(const std::string& mac);
  Status RemoveDevice(const std::string& mac);

  // Returns the generated password (the only time it is shown) or "" when none was generated.
  Result<std::string> SetLine(const std::string& mac, const LineChange& change);

 private:
  Status Audit(const std::string& action, const std::string& mac, nlohmann::json detail);
  Result<core::Device> FindDevice(const std::string& mac);

  store::Store& store_;
  audit::AuditLog& audit_;
  const vendors::Registry& vendors_;
  const Clock& clock_;
  std::string actor_;
};

// Tenant names are slugs: 1-64 of [a-z0-9-], starting with a letter or digit.
Status ValidateTenantName(const std::string& name);

}  // namespace provgate::service
