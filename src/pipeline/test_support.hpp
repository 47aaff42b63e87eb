// Test helpers for the pipeline: a fixture with a SQLite store, the shipped templates and
// vendors, one tenant ("acme") and two assigned Yealink devices (a_, b_) with one line each,
// and a reader of the audit log it writes.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "defense/test_support.hpp"
#include "pipeline/pipeline.hpp"
#include "store/cached_audit_store.hpp"
#include "store/cached_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace provgate::pipeline::test_support {

namespace fs = std::filesystem;
inline constexpr std::int64_t kStart = 1'800'000'000;  // the devices' windows open here

// Every record of the audit log at `p`, in order.
inline std::vector<nlohmann::json> AuditLines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("pipeline_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::array<unsigned char, crypto::SecretBox::kKeySize> key{};
    key.fill(7);
    store_ = store::SqliteStore::Open(dir_ / "p.db", crypto::SecretBox::FromKey(key), clock_).value();
    // As the server wires them: committed last-seen values reach the fleet cache too.
    audit_store_ = std::make_unique<store::CachedAuditStore>(*store_, fleet_cache_);
    audit_ = audit::AuditLog::Open(dir_ / "audit.log", audit_store_.get()).value();
    templates_ = std::make_unique<render::TemplateSet>(
        render::TemplateSet::Load(fs::path(PROVGATE_SOURCE_DIR) / "templates").value());
    vendors_ = vendors::BuiltinVendors();
    PipelineOptions options = Options();
    auto defense_options = DefaultDefenseOptions();
    defense_options.uploads_dir = dir_ / "uploads";
    defenses_ = Defenses::Create(*store_, clock_, defense_options).value();
    cached_ = std::make_unique<store::CachedStore>(*store_, fleet_cache_);
    pipeline_ = std::make_unique<Pipeline>(*cached_, *store_, *store_, vendors_, *templates_, *audit_, clock_,
                                           *defenses_, options);

    core::Tenant t;
    t.name = "acme";
    t.display_name = "ACME";
    t.anomaly_lock = false;  // the anomaly tests turn it on
    tenant_ = store_->AddTenant(t).value();
    a_ = AddDevice("001565aabbcc", "yealink", "T54W", core::DeviceState::kAssigned);
    b_ = AddDevice("001565ddeeff", "yealink", "T46U", core::DeviceState::kAssigned);
  }

  core::Device AddDevice(const std::string& mac, const std::string& vendor, const std::string& model,
                         core::DeviceState state) {
    core::Device d{.mac = core::MacAddress::Parse(mac).value()};
    d.vendor = vendor;
    d.model = model;
    d.state = state;
    if (state != core::DeviceState::kStock) {
      d.tenant_id = tenant_.id;
      d.window_opens = kStart;
      d.window_expires = kStart + 14 * 86400;
    }
    auto added = store_->AddDevice(d).value();
    core::Line l;
    l.device_id = added.id;
    l.index = 1;
    l.user = "2001";
    l.registrar = "sip.example.net";
    l.display_name = "Line One";
    l.password = "s3cret-" + mac;
    EXPECT_TRUE(store_->SetLine(l));
    return added;
  }

  // A request for `target` by the device `mac` with HTTP digest (its digest password set to
  // "digest-of-<mac>" here), answering a fresh challenge; over plain HTTP unless `tls`.
  DeviceRequest DigestRequest(const std::string& mac, const std::string& target, bool tls,
                              const std::string& method = "GET") {
    auto d = store_->FindDevice(core::MacAddress::Parse(mac).value()).value();
    const std::string password = "digest-of-" + mac;
    if (d.digest_password != password) {
      d.digest_password = password;
      EXPECT_TRUE(store_->UpdateDevice(d));
    }
    auto r = Request(target, std::nullopt);
    r.method = method;
    r.tls = tls;
    r.methods.digest = true;
    r.user_agent.clear();
    const auto challenge = pipeline_->Handle(r);
    EXPECT_EQ(challenge.status, 401);
    const std::string nonce = challenge.www_authenticate.empty()
                                  ? ""
                                  : defense::test_support::ChallengeNonce(challenge.www_authenticate.front());
    r.authorization =
        defense::test_support::DigestAuthorization(defense::DigestAlgorithm::kSha256, mac, password,
                                                   defenses_->options().realm, nonce, "00000001", method, target);
    return r;
  }

  DeviceRequest Request(const std::string& target, const std::optional<std::string>& cert_mac) {
    DeviceRequest r;
    r.listener = "devices";
    r.peer = *net::IpAddress::Parse("192.0.2.10");
    r.peer_port = 40000;
    r.method = "GET";
    r.target = target;
    r.user_agent = "Yealink SIP-T54W 96.86.0.100";
    r.received = clock_.Now();
    r.methods.digest = false;  // a client-certificate listener unless a test says otherwise
    if (cert_mac) {
      tls::CertIdentity id{.mac = core::MacAddress::Parse(*cert_mac).value()};
      id.subject = "CN=" + *cert_mac;
      id.spki_sha256 = "spki-of-" + *cert_mac;
      r.cert = id;
    }
    return r;
  }

  // In place of SetUp's: defenses made with `options`, their bans saved in `bans`, and a
  // pipeline that uses them.
  void UseDefenses(const DefenseOptions& options, defense::BanStore& bans,
                   const PipelineOptions& pipeline_options = Options()) {
    defenses_ = Defenses::Create(bans, clock_, options).value();
    pipeline_ = std::make_unique<Pipeline>(*cached_, *store_, *store_, vendors_, *templates_, *audit_, clock_,
                                           *defenses_, pipeline_options);
  }

  static PipelineOptions Options() {
    PipelineOptions options;
    options.provisioning_url = "https://prov.example.net/";
    return options;
  }

  std::string LastReason() { return AuditLines(dir_ / "audit.log").back()["reason"]; }

  fs::path dir_;
  ManualClock clock_{FromUnix(kStart + 60)};
  std::unique_ptr<store::SqliteStore> store_;
  store::FleetCache fleet_cache_{100};
  std::unique_ptr<store::CachedStore> cached_;
  std::unique_ptr<store::CachedAuditStore> audit_store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<render::TemplateSet> templates_;
  vendors::Registry vendors_;
  std::unique_ptr<Defenses> defenses_;
  std::unique_ptr<Pipeline> pipeline_;
  core::Tenant tenant_;
  core::Device a_, b_;
};

}  // namespace provgate::pipeline::test_support
