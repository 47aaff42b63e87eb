#include "portal/accounts.hpp"

#include <gtest/gtest.h>

#include "crypto/random.hpp"
#include "portal/sqlite_user_store.hpp"
#include "portal/totp.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/test_support.hpp"

namespace provgate::portal {
namespace {

using store::test_support::Box;

constexpr std::string_view kPassword = "correct horse battery";

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    clock_.Set(FromUnix(1'700'000'000));
    store_ = store::SqliteStore::Open(dir_.path() / "provgate.db", Box(), clock_).value();
    users_ = SqliteUserStore::Open(dir_.path() / "provgate.db").value();
    audit_ = audit::AuditLog::Open(dir_.path() / "audit.log", nullptr).value();
    accounts_ = std::make_unique<Accounts>(*users_, *store_, box_, *audit_, clock_, AccountOptions{});
    auto added = accounts_->AddUser("ann", "admin", "", kPassword, "test");
    ASSERT_TRUE(added) << added.error().message;
    secret_ = Base32Decode(added->totp_secret).value();
    recovery_ = added->recovery_codes;
  }
  std::string Code(std::int64_t offset_steps = 0) const {
    return TotpCode(secret_, ToUnix(clock_.Now()) / kTotpStepSeconds + offset_steps);
  }
  // Six digits that match no step in the accepted window.
  std::string WrongCode() const {
    for (const char* c : {"000000", "111111", "222222", "333333"}) {
      if (c != Code(-1) && c != Code() && c != Code(1)) return c;
    }
    return "444444";
  }

  store::test_support::TempDir dir_;
  ManualClock clock_{FromUnix(0)};
  crypto::SecretBox box_ = Box();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<SqliteUserStore> users_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<Accounts> accounts_;
  std::vector<unsigned char> secret_;
  std::vector<std::string> recovery_;
};

TEST_F(AccountsTest, StoresOnlyArgon2idAndSealedSecrets) {
  const auto u = users_->FindUser("ann").value();
  EXPECT_TRUE(u.password_hash.starts_with("$argon2id$")) << u.password_hash;
  const std::string sealed(u.totp_secret_enc.begin(), u.totp_secret_enc.end());
  EXPECT_EQ(sealed.find(std::string(secret_.begin(), secret_.end())), std::string::npos);
  EXPECT_EQ(box_.Open(u.totp_secret_enc).value(), std::string(secret_.begin(), secret_.end()));
}

TEST_F(AccountsTest, SignsInWithPasswordAndCodeOnce) {
  const std::string code = Code();
  auto ok = accounts_->SignIn("ann", kPassword, code).value();
  ASSERT_TRUE(ok.user);
  EXPECT_EQ(ok.user->actor(), "portal:ann");
  auto session = accounts_->Resume(ok.session_id);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->csrf_token, Accounts::CsrfToken(ok.session_id));
  auto again = accounts_->SignIn("ann", kPassword, code).value();
  EXPECT_FALSE(again.user);
  EXPECT_EQ(again.failure, SignInFailure::kCodeReused);
}

TEST_F(AccountsTest, RefusesWrongPasswordUnknownUserAndWrongCode) {
  EXPECT_EQ(accounts_->SignIn("ann", "wrong password!", Code()).value().failure, SignInFailure::kWrongPassword);
  EXPECT_EQ(accounts_->SignIn("bob", kPassword, Code()).value().failure, SignInFailure::kUnknownUser);
  EXPECT_EQ(accounts_->SignIn("ann", kPassword, WrongCode()).value().failure, SignInFailure::kWrongCode);
}

TEST_F(AccountsTest, RecoveryCodeWorksOnce) {
  EXPECT_TRUE(accounts_->SignIn("ann", kPassword, recovery_[0]).value().user);
  EXPECT_FALSE(accounts_->SignIn("ann", kPassword, recovery_[0]).value().user);
}

TEST_F(AccountsTest, LocksAfterRepeatedWrongCodesEvenForTheRightCode) {
  const std::string wrong = WrongCode();
  for (int i = 0; i < AccountOptions{}.max_code_failures - 1; ++i) {
    EXPECT_FALSE(accounts_->SignIn("ann", kPassword, wrong).value().locked_now);
  }
  EXPECT_TRUE(accounts_->SignIn("ann", kPassword, wrong).value().locked_now);
  EXPECT_EQ(accounts_->SignIn("ann", kPassword, Code()).value().failure, SignInFailure::kLocked);
  clock_.Advance(std::chrono::seconds(AccountOptions{}.lockout_seconds));
  EXPECT_TRUE(accounts_->SignIn("ann", kPassword, Code()).value().user);
}

TEST_F(AccountsTest, SessionsExpireWhenIdleAndAtTheAbsoluteLimit) {
  const AccountOptions o;
  auto idle = accounts_->SignIn("ann", kPassword, Code()).value();
  clock_.Advance(std::chrono::seconds(o.idle_seconds));
  EXPECT_FALSE(accounts_->Resume(idle.session_id));

  auto busy = accounts_->SignIn("ann", kPassword, Code()).value();
  for (std::int64_t t = 0; t + o.idle_seconds / 2 < o.absolute_seconds; t += o.idle_seconds / 2) {
    ASSERT_TRUE(accounts_->Resume(busy.session_id));
    clock_.Advance(std::chrono::seconds(o.idle_seconds / 2));
  }
  clock_.Advance(std::chrono::seconds(o.idle_seconds / 2));
  EXPECT_FALSE(accounts_->Resume(busy.session_id));
}

TEST_F(AccountsTest, SignOutEverywhereEndsEverySession) {
  auto a = accounts_->SignIn("ann", kPassword, Code()).value();
  clock_.Advance(std::chrono::seconds(kTotpStepSeconds));
  auto b = accounts_->SignIn("ann", kPassword, Code()).value();
  auto session = accounts_->Resume(a.session_id).value();
  EXPECT_EQ(accounts_->SignOutEverywhere(session).value(), 2);
  EXPECT_FALSE(accounts_->Resume(a.session_id));
  EXPECT_FALSE(accounts_->Resume(b.session_id));
}

TEST_F(AccountsTest, ReauthenticatesWithThePasswordOrATotpCodeOnce) {
  const auto user = accounts_->SignIn("ann", kPassword, Code()).value().user.value();
  EXPECT_TRUE(accounts_->Reauthenticate(user, kPassword).value());
  EXPECT_FALSE(accounts_->Reauthenticate(user, "not the password").value());
  EXPECT_FALSE(accounts_->Reauthenticate(user, recovery_[1]).value());  // not a recovery code
  clock_.Advance(std::chrono::seconds(kTotpStepSeconds));
  const std::string code = Code();
  EXPECT_TRUE(accounts_->Reauthenticate(user, code).value());
  EXPECT_FALSE(accounts_->Reauthenticate(user, code).value());  // used already
}

TEST_F(AccountsTest, WrongReauthenticationsLockTheUser) {
  const auto user = accounts_->SignIn("ann", kPassword, Code()).value().user.value();
  for (int i = 0; i < AccountOptions{}.max_code_failures; ++i) {
    EXPECT_FALSE(accounts_->Reauthenticate(user, WrongCode()).value());
  }
  EXPECT_FALSE(accounts_->Reauthenticate(user, kPassword).value());
  EXPECT_EQ(accounts_->SignIn("ann", kPassword, Code(1)).value().failure, SignInFailure::kLocked);
}

TEST_F(AccountsTest, TenantRoleRules) {
  EXPECT_FALSE(accounts_->AddUser("t1", "tenant-admin", "", kPassword, "test"));
  EXPECT_FALSE(accounts_->AddUser("t2", "admin", "acme", kPassword, "test"));
  EXPECT_FALSE(accounts_->AddUser("t3", "support", "", "short", "test"));
  EXPECT_FALSE(accounts_->AddUser("ann", "support", "", kPassword, "test"));
  EXPECT_FALSE(accounts_->AddUser("<b>", "support", "", kPassword, "test"));
}

TEST_F(AccountsTest, EnrolmentTakesEffectOnlyWhenConfirmedWithPasswordAndANewCode) {
  const auto user = *users_->FindUser("ann");
  const PortalUser ann{user.id, "ann", service::Role::kAdmin, std::nullopt};
  const auto e = accounts_->StartEnrolment(ann).value();
  EXPECT_NE(e.otpauth_uri.find("secret=" + e.secret), std::string::npos);
  EXPECT_EQ(e.pending.find(e.secret), std::string::npos);  // sealed, not the secret itself
  const auto fresh = Base32Decode(e.secret).value();
  const std::int64_t step = ToUnix(clock_.Now()) / kTotpStepSeconds;
  // Nothing changed yet: the old secret still signs in.
  EXPECT_FALSE(accounts_->ConfirmEnrolment(ann, e.pending, "wrong password!", TotpCode(fresh, step)).value());
  EXPECT_FALSE(accounts_->ConfirmEnrolment(ann, e.pending, kPassword, Code()).value());  // the old secret's code
  EXPECT_FALSE(accounts_->ConfirmEnrolment(ann, "AAAA" + e.pending, kPassword, TotpCode(fresh, step)).value());
  ASSERT_TRUE(accounts_->ConfirmEnrolment(ann, e.pending, kPassword, TotpCode(fresh, step)).value());
  // The confirming code is spent; the old secret no longer works, the new one does.
  EXPECT_FALSE(accounts_->SignIn("ann", kPassword, TotpCode(fresh, step)).value().user);
  clock_.Set(clock_.Now() + std::chrono::seconds(kTotpStepSeconds));
  EXPECT_FALSE(accounts_->SignIn("ann", kPassword, Code()).value().user);
  EXPECT_TRUE(accounts_->SignIn("ann", kPassword, TotpCode(fresh, step + 1)).value().user);
  const auto stored = users_->FindUser("ann").value();
  EXPECT_EQ(box_.Open(stored.totp_secret_enc).value(), std::string(fresh.begin(), fresh.end()));
}

TEST_F(AccountsTest, EnrolmentRefusesAnotherUsersOrAnExpiredPendingSecret) {
  auto bob_added = accounts_->AddUser("bob", "admin", "", kPassword, "test").value();
  const auto ann_id = users_->FindUser("ann")->id;
  const PortalUser ann{ann_id, "ann", service::Role::kAdmin, std::nullopt};
  const auto e = accounts_->StartEnrolment(ann).value();
  const auto fresh = Base32Decode(e.secret).value();
  // Bob cannot take Ann's pending secret as his.
  EXPECT_FALSE(accounts_
                   ->ConfirmEnrolment(bob_added.user, e.pending, kPassword,
                                      TotpCode(fresh, ToUnix(clock_.Now()) / kTotpStepSeconds))
                   .value());
  clock_.Set(clock_.Now() + std::chrono::seconds(AccountOptions{}.enrolment_seconds + 60));
  EXPECT_FALSE(
      accounts_->ConfirmEnrolment(ann, e.pending, kPassword, TotpCode(fresh, ToUnix(clock_.Now()) / kTotpStepSeconds))
          .value());
}

TEST_F(AccountsTest, ResetSecondFactorReplacesSecretAndCodesAndEndsSessions) {
  auto signed_in = accounts_->SignIn("ann", kPassword, Code()).value();
  ASSERT_TRUE(signed_in.user);
  const auto reset = accounts_->ResetSecondFactor(users_->FindUser("ann").value()).value();
  EXPECT_EQ(reset.recovery_codes.size(), kRecoveryCodes);
  EXPECT_FALSE(accounts_->Resume(signed_in.session_id));
  EXPECT_FALSE(accounts_->SignIn("ann", kPassword, recovery_[0]).value().user);
  clock_.Set(clock_.Now() + std::chrono::seconds(kTotpStepSeconds));
  EXPECT_FALSE(accounts_->SignIn("ann", kPassword, Code()).value().user);
  const auto fresh = Base32Decode(reset.totp_secret).value();
  EXPECT_TRUE(
      accounts_->SignIn("ann", kPassword, TotpCode(fresh, ToUnix(clock_.Now()) / kTotpStepSeconds)).value().user);
  EXPECT_TRUE(accounts_->SignIn("ann", kPassword, reset.recovery_codes[0]).value().user);
}

TEST_F(AccountsTest, UsersAreListedByTenantLockedAndRemoved) {
  store_->AddTenant(core::Tenant{.name = "acme", .display_name = "Acme"}).value();
  ASSERT_TRUE(accounts_->AddUser("tom", "tenant-admin", "acme", kPassword, "test"));
  EXPECT_EQ(users_->ListUsers(std::nullopt).value().size(), 2U);
  const auto tenant_users = users_->ListUsers(users_->FindUser("tom")->tenant_id).value();
  ASSERT_EQ(tenant_users.size(), 1U);
  EXPECT_EQ(tenant_users[0].tenant_name, "acme");
  const auto tom = users_->FindUser("tom").value();
  ASSERT_TRUE(users_->SetLockedUntil(tom.id, ToUnix(clock_.Now()) + 60));
  EXPECT_EQ(users_->FindUser("tom")->locked_until, ToUnix(clock_.Now()) + 60);
  ASSERT_TRUE(users_->DeleteUser(tom.id));
  EXPECT_FALSE(users_->FindUser("tom"));
  EXPECT_FALSE(users_->DeleteUser(tom.id));
  EXPECT_FALSE(users_->SetLockedUntil(tom.id, 0));
}

}  // namespace
}  // namespace provgate::portal
