// Secrets service::Admin shows to a person (admin_secrets.cpp): a softphone line revealed once
// until re-activation, and an engineer's web admin password with its window.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "crypto/random.hpp"
#include "crypto/secret_box.hpp"
#include "service/admin.hpp"
#include "store/forwarded_writes_test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "vendors/vendor_functions.hpp"

namespace provgate::service {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'700'000'000;

// A vendor module that names no config key for the web admin password.
std::unique_ptr<vendors::Vendor> VendorWithoutAdminKey() {
  return vendors::MakeVendor(
      {.name = "keyless",
       .route = [](std::string_view) { return std::optional<vendors::FileRoute>(); },
       .parse_user_agent = [](std::string_view) { return vendors::UserAgentInfo{}; },
       .boot_files = [](const core::MacAddress&, std::string_view) { return std::vector<std::string>(); }});
}

class AdminSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    static std::atomic<int> counter{0};
    dir_ = fs::path(::testing::TempDir()) /
           ("provgate-secrets-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::array<unsigned char, crypto::SecretBox::kKeySize> key{};
    key.fill(0x42);
    auto store = store::SqliteStore::Open(dir_ / "provgate.db", crypto::SecretBox::FromKey(key), clock_);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auto audit = audit::AuditLog::Open(dir_ / "audit.log", nullptr);
    ASSERT_TRUE(audit) << audit.error().message;
    audit_ = std::move(*audit);
    vendors_.Add(VendorWithoutAdminKey());
    ASSERT_TRUE(admin().AddTenant("acme", "Acme", 14));
    ASSERT_TRUE(admin().AddTenant("other", "Other", 14));
  }
  void TearDown() override {
    audit_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Admin& admin() {
    if (!admin_) {
      admin_ = std::make_unique<Admin>(*store_, *store_, *store_, *audit_, vendors_, clock_, "test");
    }
    return *admin_;
  }
  // A tenant user's view: confined to `tenant`.
  std::unique_ptr<Admin> ScopedTo(const std::string& tenant) {
    auto scoped = std::make_unique<Admin>(*store_, *store_, *store_, *audit_, vendors_, clock_, "scoped");
    scoped->RestrictToTenant({store_->FindTenant(tenant).value().id, tenant});
    return scoped;
  }
  // A softphone of `tenant` with one line; returns the line's generated password.
  std::string AddSoftphone(const std::string& mac, const std::string& tenant = "acme") {
    EXPECT_TRUE(admin().AddDevice({mac, "yealink", "T54W", tenant, ""}));
    LineChange line;
    line.user = "1001";
    line.registrar = "sip.example.net";
    line.generate_password = true;
    auto password = admin().SetLine(mac, line);
    EXPECT_TRUE(password);
    auto d = store_->FindDevice(*core::MacAddress::Parse(mac)).value();
    d.vars = {{"softphone", true}};
    EXPECT_TRUE(store_->UpdateDevice(d));
    return password ? *password : std::string();
  }

  ManualClock clock_{FromUnix(kNow)};
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  vendors::Registry vendors_ = vendors::BuiltinVendors();
  std::unique_ptr<Admin> admin_;
};

TEST_F(AdminSecretsTest, ASoftphoneLineIsRevealedOnceUntilReactivation) {
  const std::string first = AddSoftphone("001565aabbcc");
  auto shown = admin().RevealSoftphoneLine("001565aabbcc", 1);
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_EQ(shown->password, first);
  EXPECT_EQ(shown->user, "1001");
  auto again = admin().RevealSoftphoneLine("001565aabbcc", 1);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);

  ASSERT_TRUE(admin().ReactivateDevice("001565aabbcc"));
  auto after = admin().RevealSoftphoneLine("001565aabbcc", 1);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_NE(after->password, first);
  EXPECT_FALSE(admin().RevealSoftphoneLine("001565aabbcc", 1));
}

// A reveal whose record cannot be written shows nothing and spends nothing: the line stays
// revealable (its claim is given back).
TEST_F(AdminSecretsTest, ARevealWhoseRecordCannotBeWrittenLeavesTheLineRevealable) {
  const std::string password = AddSoftphone("001565aabbcc");
  fs::create_symlink("/dev/full", dir_ / "full.log");  // every write fails: no space left
  auto full = audit::AuditLog::Open(dir_ / "full.log", nullptr);
  ASSERT_TRUE(full) << full.error().message;
  Admin failing(*store_, *store_, *store_, **full, vendors_, clock_, "test");
  EXPECT_FALSE(failing.RevealSoftphoneLine("001565aabbcc", 1));
  auto shown = admin().RevealSoftphoneLine("001565aabbcc", 1);
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_EQ(shown->password, password);
}

// A reveal whose claim the store does not release shows nothing, says so in the trail, and
// leaves the line revealable.
TEST_F(AdminSecretsTest, ARevealWhoseClaimIsNotReleasedIsNotShown) {
  struct ReleaseFails final : store::ForwardedWrites {
    using store::ForwardedWrites::ForwardedWrites;
    Result<bool> ReleaseClaim(std::int64_t, std::string_view, std::size_t) override {
      return Error::Unavailable("store away");
    }
  };
  const std::string password = AddSoftphone("001565aabbcc");
  ReleaseFails writes(*store_);
  Admin failing(*store_, writes, *store_, *audit_, vendors_, clock_, "test");
  EXPECT_EQ(failing.RevealSoftphoneLine("001565aabbcc", 1).error().code, ErrorCode::kUnavailable);
  std::ifstream log(dir_ / "audit.log");
  const std::string trail((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(trail.find("\"softphone reveal given back\""), std::string::npos);
  auto shown = admin().RevealSoftphoneLine("001565aabbcc", 1);
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_EQ(shown->password, password);
}

// A reveal shown is a delivery like a phone's fetch: its claim is released (no longer in
// flight), so nothing takes it for a claim to give back.
TEST_F(AdminSecretsTest, AShownRevealReleasesItsClaim) {
  AddSoftphone("001565aabbcc");
  ASSERT_TRUE(admin().RevealSoftphoneLine("001565aabbcc", 1));
  const auto d = store_->FindDevice(*core::MacAddress::Parse("001565aabbcc")).value();
  const auto line = store_->ListLines(d.id).value().at(0);
  EXPECT_TRUE(line.delivered_at);
  EXPECT_FALSE(line.claim.empty());
  EXPECT_FALSE(line.claim_in_flight);
}

TEST_F(AdminSecretsTest, OnlySoftphonesAndTheirOwnLinesAreRevealed) {
  AddSoftphone("001565aabbcc");
  EXPECT_EQ(admin().RevealSoftphoneLine("001565aabbcc", 2).error().code, ErrorCode::kNotFound);
  auto d = store_->FindDevice(*core::MacAddress::Parse("001565aabbcc")).value();
  d.vars = {{"softphone", "yes"}};  // only the boolean true marks a softphone
  ASSERT_TRUE(store_->UpdateDevice(d));
  EXPECT_EQ(admin().RevealSoftphoneLine("001565aabbcc", 1).error().code, ErrorCode::kFailedPrecondition);
  // Nothing was spent by the refusals.
  d.vars = {{"softphone", true}};
  ASSERT_TRUE(store_->UpdateDevice(d));
  EXPECT_TRUE(admin().RevealSoftphoneLine("001565aabbcc", 1));
}

TEST_F(AdminSecretsTest, AnotherTenantsSoftphoneAnswersAsAnAbsentDevice) {
  AddSoftphone("001565aabbcc", "other");
  auto scoped = ScopedTo("acme");
  const auto theirs = scoped->RevealSoftphoneLine("001565aabbcc", 1);
  const auto absent = scoped->RevealSoftphoneLine("001565aabbcd", 1);
  ASSERT_FALSE(theirs);
  EXPECT_EQ(theirs.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(theirs.error().code, absent.error().code);
  EXPECT_EQ(scoped->IssueEngineerPassword("001565aabbcc", 60).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(admin().RevealSoftphoneLine("001565aabbcc", 1));  // unspent
}

TEST_F(AdminSecretsTest, AnEngineerPasswordBecomesTheDevicesAdminPasswordForItsWindow) {
  ASSERT_TRUE(admin().AddDevice({"001565aabbcc", "yealink", "T54W", "acme", ""}));
  auto issued = admin().IssueEngineerPassword("001565aabbcc", 3600);
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_EQ(issued->password.size(), kAdminPasswordLength);
  EXPECT_EQ(issued->window_ends, kNow + 3600);
  EXPECT_EQ(issued->keys, std::vector<std::string_view>{"static.security.user_password"});
  auto d = store_->FindDevice(*core::MacAddress::Parse("001565aabbcc")).value();
  EXPECT_EQ(d.admin_password, issued->password);
  EXPECT_EQ(d.engineer_window_ends, kNow + 3600);
  // Re-activation sets a password of its own and ends the window.
  ASSERT_TRUE(admin().ReactivateDevice("001565aabbcc"));
  d = store_->FindDevice(*core::MacAddress::Parse("001565aabbcc")).value();
  EXPECT_NE(d.admin_password, issued->password);
  EXPECT_FALSE(d.engineer_window_ends);
}

TEST_F(AdminSecretsTest, AnEngineerPasswordIsRefusedWhereItCouldNotReachThePhone) {
  ASSERT_TRUE(admin().AddDevice({"00aabbccdd01", "keyless", "X", "acme", ""}));
  auto keyless = admin().IssueEngineerPassword("00aabbccdd01", 3600);
  ASSERT_FALSE(keyless);
  EXPECT_EQ(keyless.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(keyless.error().message.find("no sourced config key"), std::string::npos) << keyless.error().message;

  ASSERT_TRUE(admin().AddDevice({"001565aabbcc", "yealink", "T54W", "", ""}));
  EXPECT_EQ(admin().IssueEngineerPassword("001565aabbcc", 3600).error().code, ErrorCode::kFailedPrecondition);

  // Past its provisioning window a device gets no config.
  ASSERT_TRUE(admin().AddDevice({"001565aabbce", "yealink", "T54W", "acme", ""}));
  clock_.Advance(std::chrono::hours(24 * 15));
  EXPECT_EQ(admin().IssueEngineerPassword("001565aabbce", 3600).error().code, ErrorCode::kFailedPrecondition);

  ASSERT_TRUE(admin().AddDevice({"001565aabbcd", "yealink", "T54W", "acme", ""}));
  auto d = store_->FindDevice(*core::MacAddress::Parse("001565aabbcd")).value();
  d.vars = {{"admin_password", "Chosen-by-a-variable"}};
  ASSERT_TRUE(store_->UpdateDevice(d));
  EXPECT_EQ(admin().IssueEngineerPassword("001565aabbcd", 3600).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(store_->FindDevice(d.mac).value().engineer_window_ends);
}

}  // namespace
}  // namespace provgate::service
