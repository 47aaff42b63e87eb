#include "pipeline/pipeline.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "defense/tokens.hpp"
#include "encrypt/encrypt.hpp"
#include "net/forwarded.hpp"
#include "pipeline/passwords.hpp"
#include "pipeline/render_file.hpp"
#include "pipeline/test_support.hpp"
#include "store/forwarded_writes_test_support.hpp"
#include "store/sqlite/connection.hpp"

namespace provgate::pipeline {
namespace {

namespace fs = std::filesystem;
using store::ForwardedWrites;
using test_support::AuditLines;
using test_support::kStart;
using test_support::PipelineTest;

TEST_F(PipelineTest, ServesTheAuthenticatedDevicesOwnFile) {
  auto r = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("s3cret-001565aabbcc"), std::string::npos);
  EXPECT_EQ(r.body.find("s3cret-001565ddeeff"), std::string::npos);
  EXPECT_EQ(LastReason(), "device file");
}

// A connection evaluates its requests into one Outcome: nothing of a request may reach the
// next one's response or record.
TEST_F(PipelineTest, AnOutcomeEvaluatedAgainHoldsOnlyTheNewRequest) {
  Outcome reused;
  auto challenged = Request("/001565aabbcc.cfg", std::nullopt);
  challenged.methods.digest = true;
  pipeline_->Evaluate(challenged, reused);
  ASSERT_EQ(reused.response.status, 401);
  ASSERT_FALSE(reused.response.www_authenticate.empty());

  pipeline_->Evaluate(Request("/001565aabbcc.cfg", "001565aabbcc"), reused);
  const Outcome fresh_first = pipeline_->Evaluate(Request("/001565ddeeff.cfg", "001565ddeeff"));
  ASSERT_EQ(reused.response.status, 200);
  EXPECT_TRUE(reused.response.www_authenticate.empty());
  EXPECT_NE(reused.response.body.find("s3cret-001565aabbcc"), std::string::npos);
  EXPECT_EQ(reused.record.identity_source, "client-cert");
  EXPECT_EQ(reused.record.reason, "device file");
  EXPECT_EQ(reused.events.size(), fresh_first.events.size());  // pinned, delivered, provisioned
  EXPECT_TRUE(reused.seen);

  pipeline_->Evaluate(Request("/nope.cfg", "001565aabbcc"), reused);
  const Outcome fresh = pipeline_->Evaluate(Request("/nope.cfg", "001565aabbcc"));
  EXPECT_EQ(reused.response.status, 404);
  EXPECT_EQ(reused.response.body, fresh.response.body);
  EXPECT_EQ(reused.response.content_type, fresh.response.content_type);
  EXPECT_TRUE(reused.events.empty());
  EXPECT_FALSE(reused.seen);
  auto without_time = [](const audit::AuditRecord& r) {
    audit::AuditRecord copy = r;
    copy.duration_ms = 0;
    std::string line;
    copy.AppendJson(line);
    return line;
  };
  EXPECT_EQ(without_time(reused.record), without_time(fresh.record));
}

TEST_F(PipelineTest, LastSeenIsWrittenWithTheAuditRecordOfAnAnsweredFetchOnly) {
  // Evaluate decides but writes neither the record nor the device's last-seen columns:
  // both wait for the audit commit that releases the response.
  auto outcome = pipeline_->Evaluate(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(outcome.response.status, 200);
  ASSERT_TRUE(outcome.seen);
  EXPECT_EQ(outcome.seen->device_id, a_.id);
  EXPECT_FALSE(store_->FindDevice(a_.mac).value().last_seen_at);
  pipeline_->Respond(outcome, Ok());  // sent: its password's claim is released

  ASSERT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 200);
  auto seen = store_->FindDevice(a_.mac).value();
  EXPECT_EQ(seen.last_seen_at, kStart + 60);
  EXPECT_EQ(seen.last_seen_ip, "192.0.2.10");
  EXPECT_EQ(seen.firmware, "96.86.0.100");

  clock_.Advance(std::chrono::seconds(30));
  auto refused = pipeline_->Evaluate(Request("/001565ddeeff.cfg", "001565aabbcc"));
  EXPECT_EQ(refused.response.status, 404);
  EXPECT_FALSE(refused.seen);

  // The next file of the same boot changes nothing worth a write...
  EXPECT_FALSE(pipeline_->Evaluate(Request("/001565aabbcc.cfg", "001565aabbcc")).seen);
  // ...another address is written at once (the anomaly lock compares it)...
  auto moved = Request("/001565aabbcc.cfg", "001565aabbcc");
  moved.peer = *net::IpAddress::Parse("192.0.2.11");
  ASSERT_TRUE(pipeline_->Evaluate(moved).seen);
  // ...and so is the same address once the recorded fetch is a minute old.
  clock_.Advance(std::chrono::seconds(kSeenResolutionSeconds));
  EXPECT_TRUE(pipeline_->Evaluate(Request("/001565aabbcc.cfg", "001565aabbcc")).seen);
}

// The portal's engineer password (core::Device::engineer_window_ends): served until the
// window ends, then the first device-file fetch carries a new password, once, audited.
TEST_F(PipelineTest, TheFirstFetchAfterAnEngineerWindowCarriesANewAdminPassword) {
  const std::string kLine = "static.security.user_password = admin:";
  auto d = store_->FindDevice(a_.mac).value();
  d.admin_password = "Engineer-Knows-1";
  d.engineer_window_ends = kStart + 600;
  ASSERT_TRUE(store_->UpdateDevice(d));
  auto within = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(within.status, 200) << within.body;
  EXPECT_NE(within.body.find(kLine + "Engineer-Knows-1\n"), std::string::npos) << within.body;
  // Cached at this generation: the window's end must still be noticed.
  EXPECT_NE(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body.find("Engineer-Knows-1"),
            std::string::npos);

  clock_.Set(FromUnix(kStart + 600));
  auto head = Request("/001565aabbcc.cfg", "001565aabbcc");
  head.method = "HEAD";
  EXPECT_EQ(pipeline_->Handle(head).status, 200);
  EXPECT_EQ(store_->FindDevice(a_.mac).value().engineer_window_ends, kStart + 600);  // a HEAD changes nothing

  auto after = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.body.find("Engineer-Knows-1"), std::string::npos);
  const auto stored = store_->FindDevice(a_.mac).value();
  ASSERT_TRUE(stored.admin_password);
  EXPECT_NE(*stored.admin_password, "Engineer-Knows-1");
  EXPECT_EQ(stored.admin_password->size(), kAdminPasswordLength);
  EXPECT_FALSE(stored.engineer_window_ends);
  EXPECT_NE(after.body.find(kLine + *stored.admin_password + "\n"), std::string::npos) << after.body;
  bool rotated = false;
  for (const auto& rec : AuditLines(dir_ / "audit.log")) {
    if (rec["reason"] == "engineer password rotated") {
      rotated = true;
      EXPECT_EQ(rec["device"], "001565aabbcc");
      EXPECT_EQ(rec.dump().find(*stored.admin_password), std::string::npos);
    }
  }
  EXPECT_TRUE(rotated);
  // Once: the next fetch keeps the new password.
  auto next = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_NE(next.body.find(kLine + *stored.admin_password + "\n"), std::string::npos);
  EXPECT_EQ(store_->FindDevice(a_.mac).value().admin_password, stored.admin_password);
}

// The store's writes, except that another request ends every engineer window just before
// this one tries: the loser of that race.
class LosesEveryEngineerWindowRace final : public ForwardedWrites {
 public:
  using ForwardedWrites::ForwardedWrites;
  Result<bool> EndEngineerWindow(std::int64_t id, std::int64_t window_end, const std::string& password) override {
    EXPECT_TRUE(w_.EndEngineerWindow(id, window_end, "Winner-Set-This-1").value());
    return w_.EndEngineerWindow(id, window_end, password);
  }
};

TEST_F(PipelineTest, TheLoserOfAnEngineerWindowRaceServesTheWinnersPassword) {
  auto d = store_->FindDevice(a_.mac).value();
  d.admin_password = "Engineer-Knows-1";
  d.engineer_window_ends = kStart;
  ASSERT_TRUE(store_->UpdateDevice(d));
  LosesEveryEngineerWindowRace writes(*store_);
  Pipeline racing(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  auto r = racing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("Engineer-Knows-1"), std::string::npos);
  EXPECT_NE(r.body.find("static.security.user_password = admin:Winner-Set-This-1\n"), std::string::npos) << r.body;
  EXPECT_EQ(store_->FindDevice(a_.mac).value().admin_password, "Winner-Set-This-1");
}

TEST_F(PipelineTest, AnotherDevicesFileIsAUniformNotFoundAuditedAsMismatch) {
  auto r = pipeline_->Handle(Request("/001565ddeeff.cfg", "001565aabbcc"));
  EXPECT_EQ(r.status, UniformNotFound().status);
  EXPECT_EQ(r.body, UniformNotFound().body);
  EXPECT_EQ(r.content_type, UniformNotFound().content_type);
  EXPECT_EQ(LastReason(), "mac mismatch");
  auto rec = AuditLines(dir_ / "audit.log").back();
  EXPECT_EQ(rec["url_mac"], "001565ddeeff");
  EXPECT_EQ(rec["mac"], "001565aabbcc");
}

TEST_F(PipelineTest, RefusalsAreIndistinguishable) {
  const auto reference = UniformNotFound();
  const std::pair<DeviceRequest, std::string> cases[] = {
      {Request("/001565aabbcc.cfg", "001565999999"), "unknown device"},
      {Request("/001565ddeeff.cfg", "001565aabbcc"), "mac mismatch"},
      {Request("/001565aabbcc.cfg", std::nullopt), "no identity"},
      {Request("/nope.cfg", "001565aabbcc"), "unknown file"},
      {Request("/../001565aabbcc.cfg", "001565aabbcc"), "bad path"},
  };
  for (const auto& [req, reason] : cases) {
    auto r = pipeline_->Handle(req);
    EXPECT_EQ(r.status, reference.status) << reason;
    EXPECT_EQ(r.body, reference.body) << reason;
    EXPECT_EQ(r.content_type, reference.content_type) << reason;
    EXPECT_EQ(r.allow_header, reference.allow_header) << reason;
    EXPECT_EQ(LastReason(), reason);
  }
}

TEST_F(PipelineTest, WindowExpiryWithdrawsTheConfig) {
  clock_.Set(FromUnix(kStart + 14 * 86400 - 1));
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 200);
  clock_.Set(FromUnix(kStart + 14 * 86400));
  auto r = pipeline_->Handle(Request("/001565ddeeff.cfg", "001565ddeeff"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(LastReason(), "window expired");
}

TEST_F(PipelineTest, StockAndRetiredDevicesGetNothing) {
  AddDevice("001565000001", "yealink", "T54W", core::DeviceState::kStock);
  EXPECT_EQ(pipeline_->Handle(Request("/001565000001.cfg", "001565000001")).status, 404);
  EXPECT_EQ(LastReason(), "device not assigned");
  AddDevice("001565000002", "yealink", "T54W", core::DeviceState::kRetired);
  EXPECT_EQ(pipeline_->Handle(Request("/001565000002.cfg", "001565000002")).status, 404);
  EXPECT_EQ(LastReason(), "device retired");
}

// Invariant 7 (docs/security.md): a response waits for its record on disk when it releases a secret
// or the request changed state; secret-free files and refusals do not wait.
TEST_F(PipelineTest, OnlyResponsesThatReleaseASecretOrChangeStateWaitForTheDisk) {
  using audit::Durability;
  struct Row {
    const char* what;
    const char* method;
    const char* target;
    std::optional<std::string> cert;
    int status;
    Durability expected;
  };
  const Row rows[] = {
      {"first fetch: password, pin, provisioned", "GET", "/001565aabbcc.cfg", "001565aabbcc", 200,
       Durability::kDurable},
      {"device file again: still its web-UI password", "GET", "/001565aabbcc.cfg", "001565aabbcc", 200,
       Durability::kDurable},
      {"HEAD of the device file: no body", "HEAD", "/001565aabbcc.cfg", "001565aabbcc", 200, Durability::kWindowed},
      {"common file", "GET", "/y000000000096.cfg", "001565aabbcc", 200, Durability::kWindowed},
      // Every uniform 404 waits: some change state, and none may differ in latency.
      {"unknown file", "GET", "/nope.cfg", "001565aabbcc", 404, Durability::kDurable},
      {"no credential", "GET", "/001565ddeeff.cfg", std::nullopt, 404, Durability::kDurable},
      {"method refused", "POST", "/001565aabbcc.cfg", "001565aabbcc", 405, Durability::kWindowed},
  };
  for (const auto& row : rows) {
    auto request = Request(row.target, row.cert);
    request.method = row.method;
    auto outcome = pipeline_->Evaluate(request);
    EXPECT_EQ(outcome.response.status, row.status) << row.what;
    EXPECT_EQ(outcome.durability, row.expected) << row.what;
    ASSERT_TRUE(audit_->WriteBatch(outcome.TakeRecords(), outcome.durability, std::move(outcome.seen)));
  }

  audit::AuditOptions all;
  all.hold_every_response = true;
  auto holding = audit::AuditLog::Open(dir_ / "audit-all.log", nullptr, all).value();
  Pipeline every(*cached_, *store_, *store_, vendors_, *templates_, *holding, clock_, *defenses_, PipelineOptions{});
  auto post = Request("/nope.cfg", "001565aabbcc");
  post.method = "POST";
  EXPECT_EQ(every.Evaluate(post).durability, Durability::kDurable);
  EXPECT_EQ(every.Evaluate(Request("/y000000000096.cfg", "001565aabbcc")).durability, Durability::kDurable);
}

TEST_F(PipelineTest, CommonFilesCarryNoDeviceData) {
  auto r = pipeline_->Handle(Request("/y000000000096.cfg", "001565aabbcc"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("s3cret"), std::string::npos);
  EXPECT_EQ(r.body.find("001565aabbcc"), std::string::npos);
  EXPECT_EQ(r.body.find("account.1."), std::string::npos);
}

TEST_F(PipelineTest, OtherMethodsAreRefusedWithAllow) {
  auto req = Request("/001565aabbcc.cfg", "001565aabbcc");
  req.method = "POST";
  auto r = pipeline_->Handle(req);
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(r.allow_header);
}

std::optional<std::string> PasswordIn(const std::string& body) {
  const std::string key = "account.1.password = ";
  auto pos = body.find(key);
  if (pos == std::string::npos) return std::nullopt;
  return body.substr(pos + key.size(), body.find('\n', pos) - pos - key.size());
}

TEST_F(PipelineTest, DeliverOnceSendsThePasswordOnceAndWipesItOnTheNextFetch) {
  auto first = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(PasswordIn(first.body), "s3cret-001565aabbcc");
  EXPECT_TRUE(store_->ListLines(a_.id).value().at(0).password);  // not yet confirmed
  clock_.Advance(std::chrono::minutes(5));
  auto second = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(second.status, 200);
  EXPECT_FALSE(PasswordIn(second.body));
  EXPECT_NE(second.body.find("account.1.user_name = 2001"), std::string::npos);
  EXPECT_FALSE(store_->ListLines(a_.id).value().at(0).password);  // wiped from the store
}

// The store's writes, failing like a database that goes away mid-request: with
// `lose_claim_ack`, a claim commits and then reports the connection lost (the commit's
// acknowledgement never arrived); with `store_down`, a give-back fails and changes nothing.
// With `another_process`, its claims carry another process's claim ids (those of another
// node, as the pipeline under test sees them); `release_fails` fails every release.
class FailsLikeAFailover final : public ForwardedWrites {
 public:
  using ForwardedWrites::ForwardedWrites;
  bool lose_claim_ack = false;
  bool store_down = false;
  bool another_process = false;
  bool release_fails = false;
  bool transition_fails = false;
  std::mutex gate;
  std::atomic<bool> entered{false};

  // The database goes away mid-request: a claim commits and its acknowledgement is lost, and
  // every give-back fails until the test brings the store back (store_down = false).
  void GoAway() {
    lose_claim_ack = true;
    store_down = true;
  }

  Result<std::vector<core::Line>> ClaimPasswords(std::int64_t id, const std::vector<int>& lines, std::int64_t now,
                                                 std::string_view claim) override {
    auto claimed = w_.ClaimPasswords(id, lines, now, Stored(claim));
    if (lose_claim_ack) return Error::Unavailable("server closed the connection unexpectedly");
    return claimed;
  }
  Result<store::GivenBack> GiveBackUndelivered(std::int64_t id, std::string_view claim) override {
    entered = true;
    { std::lock_guard wait(gate); }  // a test holds it to keep a give-back waiting for the database
    if (store_down) return Error::Unavailable("no connection to the server");
    return w_.GiveBackUndelivered(id, Stored(claim));
  }
  Result<bool> TransitionState(std::int64_t id, core::DeviceState from, core::DeviceState to,
                               std::int64_t now) override {
    if (transition_fails) return Error::Unavailable("no connection to the server");
    return w_.TransitionState(id, from, to, now);
  }
  Result<bool> ReleaseClaim(std::int64_t id, std::string_view claim, std::size_t lines) override {
    if (release_fails || store_down) return Error::Unavailable("no connection to the server");
    return w_.ReleaseClaim(id, Stored(claim), lines);
  }

 private:
  std::string Stored(std::string_view claim) const {
    return another_process ? "0ther" + std::string(claim) : std::string(claim);
  }
};

std::vector<nlohmann::json> RecordsWithReason(const fs::path& log, const std::string& reason) {
  std::vector<nlohmann::json> out;
  for (auto& r : AuditLines(log)) {
    if (r["reason"] == reason) out.push_back(r);
  }
  return out;
}

// A database failover can cut a claim off after its commit: the request fails, so its
// password never left, and the claim is given back, at once or, with the database still
// away, by a later try. The device's next fetch gets the password, exactly once.
TEST_F(PipelineTest, AClaimCutOffAfterItsCommitIsGivenBackOnceTheStoreAnswers) {
  FailsLikeAFailover writes(*store_);
  Pipeline failing(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  writes.GoAway();
  auto cut_off = failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(cut_off.status, 500);
  EXPECT_FALSE(PasswordIn(cut_off.body));
  EXPECT_TRUE(store_->ListLines(a_.id).value().at(0).delivered_at);  // the claim committed
  EXPECT_EQ(failing.pending_give_backs(), 1u);
  ASSERT_EQ(RecordsWithReason(dir_ / "audit.log", "delivery give-back pending").size(), 1u);

  failing.RetryGiveBacks();  // the store still away: keeps waiting
  EXPECT_EQ(failing.pending_give_backs(), 1u);
  writes.store_down = false;
  failing.RetryGiveBacks();
  EXPECT_EQ(failing.pending_give_backs(), 0u);
  EXPECT_FALSE(store_->ListLines(a_.id).value().at(0).delivered_at);
  const auto given = RecordsWithReason(dir_ / "audit.log", "delivery given back");
  ASSERT_EQ(given.size(), 1u);
  EXPECT_EQ(given[0]["detail"]["claim"].get<std::string>().size(), 32u);
  EXPECT_EQ(given[0]["device"], "001565aabbcc");
  EXPECT_EQ(given[0]["detail"]["lines"], nlohmann::json::array({1}));
  EXPECT_EQ(given[0]["detail"]["retried"], true);

  writes.lose_claim_ack = false;
  EXPECT_EQ(PasswordIn(failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body), "s3cret-001565aabbcc");
  EXPECT_FALSE(PasswordIn(failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body));
  // The delivery names its own claim, not the one given back.
  const auto delivered = RecordsWithReason(dir_ / "audit.log", "password delivered");
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0]["detail"]["claim"].get<std::string>().size(), 32u);
  EXPECT_NE(delivered[0]["detail"]["claim"], given[0]["detail"]["claim"]);
}

// A request that fails after its claim (here the first fetch's state change) gives the
// password back after the delivery record it undoes, so the trail reads in the order things
// happened.
TEST_F(PipelineTest, AFailedRequestsGiveBackFollowsTheDeliveryItUndoes) {
  FailsLikeAFailover writes(*store_);
  Pipeline failing(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  const auto fresh = AddDevice("001565000123", "yealink", "T54W", core::DeviceState::kAssigned);
  writes.transition_fails = true;
  auto cut_off = failing.Handle(Request("/001565000123.cfg", "001565000123"));
  ASSERT_EQ(cut_off.status, 500);
  EXPECT_FALSE(PasswordIn(cut_off.body));
  std::vector<std::string> reasons;
  for (const auto& r : AuditLines(dir_ / "audit.log")) {
    if (r["device"] == "001565000123") reasons.push_back(r["reason"]);
  }
  const auto at = [&](const std::string& reason) {
    return std::find(reasons.begin(), reasons.end(), reason) - reasons.begin();
  };
  ASSERT_LT(at("password delivered"), static_cast<std::ptrdiff_t>(reasons.size()));
  ASSERT_LT(at("delivery given back"), static_cast<std::ptrdiff_t>(reasons.size()));
  EXPECT_LT(at("password delivered"), at("delivery given back"));
  EXPECT_FALSE(store_->ListLines(fresh.id).value().at(0).delivered_at);
  writes.transition_fails = false;
  EXPECT_EQ(PasswordIn(failing.Handle(Request("/001565000123.cfg", "001565000123")).body), "s3cret-001565000123");
}

// The device's retry may come before the server's next try: it settles its own waiting
// give-back first, so it gets its password instead of a file without it (and its fetch
// does not count as the confirmation that wipes a password it never got).
TEST_F(PipelineTest, ADevicesRetrySettlesItsCutOffClaimBeforeClaimingAgain) {
  auto tenant = store_->GetTenant(tenant_.id).value();
  tenant.confirm_grace_seconds = 0;  // the next fetch confirms
  ASSERT_TRUE(store_->UpdateTenant(tenant));
  FailsLikeAFailover writes(*store_);
  Pipeline failing(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  writes.GoAway();
  ASSERT_EQ(failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 500);
  ASSERT_EQ(failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 500);  // still away
  EXPECT_EQ(failing.pending_give_backs(), 1u);
  writes.lose_claim_ack = false;
  writes.store_down = false;
  clock_.Advance(std::chrono::seconds(2));
  auto retry = failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(retry.status, 200);
  EXPECT_EQ(PasswordIn(retry.body), "s3cret-001565aabbcc");
  EXPECT_EQ(failing.pending_give_backs(), 0u);
  EXPECT_TRUE(store_->ListLines(a_.id).value().at(0).password);  // not wiped
}

// A claim cut off on another node is in flight until that node gives it back: the device's
// retry here neither takes it for the confirmation (which would wipe a password it never
// got) nor is served without it, but is asked to come back; once given back, it gets it.
TEST_F(PipelineTest, AnotherNodesCutOffClaimIsNeitherConfirmedNorServedAround) {
  auto tenant = store_->GetTenant(tenant_.id).value();
  tenant.confirm_grace_seconds = 0;
  ASSERT_TRUE(store_->UpdateTenant(tenant));
  FailsLikeAFailover writes(*store_);
  writes.another_process = true;
  Pipeline elsewhere(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  writes.GoAway();
  ASSERT_EQ(elsewhere.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 500);
  clock_.Advance(std::chrono::seconds(1));
  auto retry = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(retry.status, 503);
  EXPECT_EQ(retry.retry_after, kClaimInFlightRetryAfter);
  EXPECT_FALSE(PasswordIn(retry.body));
  EXPECT_EQ(LastReason().rfind("claim in flight", 0), 0u) << LastReason();
  EXPECT_TRUE(store_->ListLines(a_.id).value().at(0).password);  // not wiped
  // Its record is durable before the answer, as every answer to a device file is.
  EXPECT_EQ(pipeline_->Evaluate(Request("/001565aabbcc.cfg", "001565aabbcc")).durability, audit::Durability::kDurable);
  // A file that does not carry the password is served meanwhile.
  EXPECT_EQ(pipeline_->Handle(Request("/y000000000096.cfg", "001565aabbcc")).status, 200);

  writes.store_down = false;
  elsewhere.RetryGiveBacks();
  ASSERT_EQ(RecordsWithReason(dir_ / "audit.log", "delivery given back").size(), 1u);
  auto after = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(PasswordIn(after.body), "s3cret-001565aabbcc");
}

// A claim its node never released nor gave back (the node died, or stayed cut off from the
// database) is given back by the device's next fetch once kAbandonedClaimAfter has passed,
// audited, and the device asked to come back; then it gets the password. That node's late
// give-back finds nothing.
TEST_F(PipelineTest, AClaimItsNodeAbandonedIsGivenBackByTheDevicesNextFetch) {
  FailsLikeAFailover writes(*store_);
  writes.another_process = true;
  Pipeline elsewhere(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  writes.GoAway();
  ASSERT_EQ(elsewhere.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 500);
  clock_.Advance(kAbandonedClaimAfter - std::chrono::seconds(1));
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 503);
  EXPECT_TRUE(RecordsWithReason(dir_ / "audit.log", "delivery given back").empty());
  clock_.Advance(std::chrono::seconds(1));
  auto giving_back = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(giving_back.status, 503);
  EXPECT_EQ(giving_back.retry_after, kClaimInFlightRetryAfter);
  const auto given = RecordsWithReason(dir_ / "audit.log", "delivery given back");
  ASSERT_EQ(given.size(), 1u);
  EXPECT_EQ(given[0]["detail"]["lines"], nlohmann::json::array({1}));
  EXPECT_EQ(given[0]["detail"]["claim"].get<std::string>().rfind("0ther", 0), 0u);
  EXPECT_NE(given[0]["detail"]["cause"].get<std::string>().find("never released"), std::string::npos);
  auto fetch = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(fetch.status, 200);
  EXPECT_EQ(PasswordIn(fetch.body), "s3cret-001565aabbcc");
  ASSERT_EQ(RecordsWithReason(dir_ / "audit.log", "password delivered").size(), 1u);  // the cut-off one: none

  writes.store_down = false;
  elsewhere.RetryGiveBacks();
  EXPECT_EQ(RecordsWithReason(dir_ / "audit.log", "delivery given back").size(), 1u);
  EXPECT_EQ(RecordsWithReason(dir_ / "audit.log", "delivery not given back").size(), 1u);
  EXPECT_EQ(store_->ListLines(a_.id).value().at(0).delivered_at, ToUnix(clock_.Now()));  // the new claim stays
}

// This node's own claim left in flight (its give-back abandoned, a request that never ended)
// is given back the same way: the device is not served around it for ever.
TEST_F(PipelineTest, AClaimOfThisNodeLeftInFlightIsGivenBackOnceAbandoned) {
  auto dropped = pipeline_->Evaluate(Request("/001565aabbcc.cfg", "001565aabbcc"));  // never responded
  ASSERT_TRUE(PasswordIn(dropped.response.body));
  clock_.Advance(kAbandonedClaimAfter);
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 503);
  EXPECT_EQ(PasswordIn(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body), "s3cret-001565aabbcc");
}

// A Grandstream's first file carries the key (filePassword) and the SIP password in one plain
// copy: when its claim is abandoned, both are given back, so the device's next fetch gets a
// plain copy again instead of a file encrypted with a key it never received.
TEST_F(PipelineTest, AnAbandonedClaimGivesBackTheKeysPlainCopyOfTheSameResponse) {
  auto g = AddDevice("000b82000001", "grandstream", "GXP2135", core::DeviceState::kAssigned);
  g.config_key = encrypt::GenerateKey(vendors::Cipher::kOpenSslAes256CbcMd5).value();
  ASSERT_TRUE(store_->UpdateDevice(g));
  auto first = Request("/cfg000b82000001.xml", "000b82000001");
  first.user_agent.clear();
  auto dropped = pipeline_->Evaluate(first);  // the node dies before its response leaves
  ASSERT_EQ(dropped.response.status, 200);
  ASSERT_NE(dropped.response.body.find(*g.config_key), std::string::npos);
  ASSERT_TRUE(store_->FindDevice(g.mac).value().config_key_delivered_at);
  clock_.Advance(kAbandonedClaimAfter);
  EXPECT_EQ(pipeline_->Handle(first).status, 503);
  EXPECT_FALSE(store_->FindDevice(g.mac).value().config_key_delivered_at);
  auto again = pipeline_->Handle(first);
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(again.content_type, "application/octet-stream");
  EXPECT_NE(again.body.find(*g.config_key), std::string::npos);
  EXPECT_NE(again.body.find("s3cret-000b82000001"), std::string::npos);
}

// A response carrying a password leaves only once its claim is released; until then a
// concurrent fetch on the same node gets its file without that password and confirms
// nothing.
TEST_F(PipelineTest, APasswordLeavesOnlyUnderAReleasedClaim) {
  auto tenant = store_->GetTenant(tenant_.id).value();
  tenant.confirm_grace_seconds = 0;
  ASSERT_TRUE(store_->UpdateTenant(tenant));
  auto first = pipeline_->Evaluate(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(PasswordIn(first.response.body), "s3cret-001565aabbcc");
  EXPECT_TRUE(store_->ListLines(a_.id).value().at(0).claim_in_flight);
  auto concurrent = pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(concurrent.status, 200);
  EXPECT_FALSE(PasswordIn(concurrent.body));
  EXPECT_TRUE(store_->ListLines(a_.id).value().at(0).password);  // not confirmed

  EXPECT_EQ(pipeline_->Respond(first, Ok()).status, 200);
  EXPECT_FALSE(store_->ListLines(a_.id).value().at(0).claim_in_flight);
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 200);
  EXPECT_FALSE(store_->ListLines(a_.id).value().at(0).password);  // now confirmed and wiped
}

// A response whose claim was given back meanwhile (as abandoned, by another node), or whose
// release the store refuses, does not leave: 503, and the password stays deliverable.
TEST_F(PipelineTest, AResponseWhoseClaimCannotBeReleasedIsNotSent) {
  auto late = pipeline_->Evaluate(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_TRUE(PasswordIn(late.response.body));
  const auto claim = store_->ListLines(a_.id).value().at(0).claim;
  ASSERT_EQ(store_->GiveBackAbandonedClaim(a_.id, claim, ToUnix(clock_.Now()) + 1).value().lines, std::vector<int>{1});
  const auto& unsent = pipeline_->Respond(late, Ok());
  EXPECT_EQ(unsent.status, 503);
  EXPECT_EQ(unsent.retry_after, kClaimInFlightRetryAfter);
  EXPECT_FALSE(PasswordIn(unsent.body));

  FailsLikeAFailover writes(*store_);
  writes.release_fails = true;
  Pipeline failing(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  auto refused = failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(refused.status, 503);
  EXPECT_FALSE(PasswordIn(refused.body));
  EXPECT_FALSE(store_->ListLines(a_.id).value().at(0).delivered_at);  // given back
  EXPECT_EQ(RecordsWithReason(dir_ / "audit.log", "delivery given back").size(), 1u);
  EXPECT_EQ(PasswordIn(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body), "s3cret-001565aabbcc");
}

// Settling runs only once the request is authorized for the device's own file: a refused
// request of a device with a waiting give-back looks like any other refusal.
TEST_F(PipelineTest, AWaitingGiveBackChangesNoRefusal) {
  FailsLikeAFailover writes(*store_);
  Pipeline failing(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  writes.GoAway();
  ASSERT_EQ(failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 500);
  ASSERT_TRUE(store_->LockDevice(a_.id, "certificate key changed"));
  auto refused = failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(refused.status, UniformNotFound().status);
  EXPECT_EQ(refused.body, UniformNotFound().body);
  ASSERT_TRUE(store_->LockDevice(a_.id, ""));
  // A common file spends nothing and is served while the give-back waits.
  EXPECT_EQ(failing.Handle(Request("/y000000000096.cfg", "001565aabbcc")).status, 200);
  EXPECT_EQ(failing.pending_give_backs(), 1u);
}

// A serving thread never waits for a retry pass, which may wait for a database that is
// away: the device's request fails at once and the pass settles its give-back.
TEST_F(PipelineTest, ADevicesFetchDoesNotWaitForARetryPassUnderWay) {
  FailsLikeAFailover writes(*store_);
  Pipeline failing(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  writes.GoAway();
  ASSERT_EQ(failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 500);
  writes.lose_claim_ack = false;
  writes.store_down = false;
  std::unique_lock held(writes.gate);
  writes.entered = false;
  std::thread pass([&] { failing.RetryGiveBacks(); });
  while (!writes.entered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto fetch = std::async(std::launch::async,
                          [&] { return failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status; });
  const bool answered = fetch.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  held.unlock();
  pass.join();
  ASSERT_TRUE(answered) << "the fetch waited for the retry pass";
  EXPECT_EQ(fetch.get(), 500);
  EXPECT_EQ(failing.pending_give_backs(), 0u);  // the pass settled it
  EXPECT_EQ(PasswordIn(failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body), "s3cret-001565aabbcc");
}

TEST_F(PipelineTest, AGiveBackTheStoreRefusesForTooLongIsAbandonedAndAudited) {
  FailsLikeAFailover writes(*store_);
  Pipeline failing(*cached_, *store_, writes, vendors_, *templates_, *audit_, clock_, *defenses_, Options());
  writes.GoAway();
  ASSERT_EQ(failing.Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 500);
  clock_.Advance(GiveBacks::kGiveUpAfter);
  ASSERT_EQ(failing.Handle(Request("/001565ddeeff.cfg", "001565ddeeff")).status, 500);
  failing.RetryGiveBacks();
  EXPECT_EQ(failing.pending_give_backs(), 1u);  // the second one is young enough
  auto lost = RecordsWithReason(dir_ / "audit.log", "delivery not given back");
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0]["device"], "001565aabbcc");
  EXPECT_EQ(lost[0]["detail"]["why"], "the store failed for too long");
  EXPECT_TRUE(store_->ListLines(a_.id).value().at(0).delivered_at);
  // At shutdown, what still waits is abandoned the same way.
  failing.AbandonGiveBacks();
  EXPECT_EQ(failing.pending_give_backs(), 0u);
  lost = RecordsWithReason(dir_ / "audit.log", "delivery not given back");
  ASSERT_EQ(lost.size(), 2u);
  EXPECT_EQ(lost[1]["device"], "001565ddeeff");
  EXPECT_EQ(lost[1]["detail"]["why"], "the server stopped while the store failed");
}

TEST_F(PipelineTest, CommonFileFetchesNeitherDeliverNorConfirm) {
  pipeline_->Handle(Request("/y000000000096.cfg", "001565aabbcc"));
  pipeline_->Handle(Request("/001565aabbcc.boot", "001565aabbcc"));
  EXPECT_FALSE(store_->ListLines(a_.id).value().at(0).delivered_at);
  EXPECT_EQ(PasswordIn(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body), "s3cret-001565aabbcc");
}

// Once a device's passwords are delivered and wiped, its file is rendered once per change
// of the data; any write to the device, its lines or its tenant shows in the next response.
TEST_F(PipelineTest, RenderedFilesAreReusedUntilTheDataChanges) {
  const auto fetch = [&] { return pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")); };
  EXPECT_TRUE(PasswordIn(fetch().body));       // delivered
  const std::string confirmed = fetch().body;  // confirmed: the password is wiped
  EXPECT_FALSE(PasswordIn(confirmed));
  const auto before = pipeline_->render_cache_stats();
  EXPECT_EQ(fetch().body, confirmed);  // rendered again: the wipe changed the data
  EXPECT_EQ(fetch().body, confirmed);
  EXPECT_EQ(fetch().body, confirmed);
  EXPECT_EQ(pipeline_->render_cache_stats().hits - before.hits, 2u);

  core::Line l = store_->ListLines(a_.id).value().at(0);
  l.registrar = "sip-moved.example.net";
  ASSERT_TRUE(store_->SetLine(l));
  EXPECT_NE(fetch().body.find("sip-moved.example.net"), std::string::npos);
  ASSERT_TRUE(store_->LockDevice(a_.id, "stolen"));
  EXPECT_EQ(fetch().status, 404);
  EXPECT_EQ(LastReason(), "device locked: stolen");
}

// Only a MAC proven by a certificate is looked up through the fleet cache: a MAC a request
// merely names costs a store read whether the device exists or not.
TEST_F(PipelineTest, OnlyCertifiedMacsAreLookedUpInTheCache) {
  auto named = Request("/001565aabbcc.cfg", std::nullopt);
  named.methods.digest = true;
  EXPECT_EQ(pipeline_->Handle(named).status, 401);
  named.target = "/001565000001.cfg";
  EXPECT_EQ(pipeline_->Handle(named).status, 401);
  EXPECT_EQ(fleet_cache_.stats().hits + fleet_cache_.stats().misses, 0u);
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 200);
  EXPECT_GT(fleet_cache_.stats().misses, 0u);
}

// A delivered password still stored (the grace period) keeps the file out of the cache:
// its wipe is due without any change of the data.
TEST_F(PipelineTest, FilesOfLinesWithAStoredPasswordAreNotReused) {
  tenant_.confirm_grace_seconds = 3600;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  const auto before = pipeline_->render_cache_stats();
  for (int i = 0; i < 4; ++i) pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(pipeline_->render_cache_stats().hits, before.hits);
}

// A common file depends on the tenant, vendor and model only: devices of one model share it.
TEST_F(PipelineTest, CommonFilesAreSharedByTheDevicesOfAModel) {
  const auto c = AddDevice("001565aabbdd", "yealink", "T54W", core::DeviceState::kAssigned);
  // First fetches pin each device's certificate key, a write.
  pipeline_->Handle(Request("/y000000000096.cfg", c.mac.str()));
  auto first = pipeline_->Handle(Request("/y000000000096.cfg", "001565aabbcc"));
  ASSERT_EQ(first.status, 200);
  ASSERT_NE(first.body.find("#!version"), std::string::npos);
  first = pipeline_->Handle(Request("/y000000000096.cfg", "001565aabbcc"));
  const auto before = pipeline_->render_cache_stats();
  auto second = pipeline_->Handle(Request("/y000000000096.cfg", c.mac.str()));
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(pipeline_->render_cache_stats().hits, before.hits + 1);
}

TEST_F(PipelineTest, GracePeriodDelaysTheWipe) {
  tenant_.confirm_grace_seconds = 3600;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  EXPECT_TRUE(PasswordIn(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body));
  clock_.Advance(std::chrono::minutes(30));
  EXPECT_FALSE(PasswordIn(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body));
  EXPECT_TRUE(store_->ListLines(a_.id).value().at(0).password);  // kept during the grace period
  clock_.Advance(std::chrono::minutes(31));
  pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_FALSE(store_->ListLines(a_.id).value().at(0).password);
}

TEST_F(PipelineTest, UntilConfirmedRepeatsThePasswordUntilConfirmation) {
  tenant_.password_policy = core::PasswordPolicy::kUntilConfirmed;
  tenant_.confirm_grace_seconds = 600;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(PasswordIn(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body)) << i;
    clock_.Advance(std::chrono::minutes(1));
  }
  clock_.Advance(std::chrono::minutes(10));
  EXPECT_FALSE(PasswordIn(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body));
}

TEST_F(PipelineTest, AlwaysPolicyKeepsDeliveringAndNeverWipes) {
  tenant_.password_policy = core::PasswordPolicy::kAlways;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(PasswordIn(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body));
    clock_.Advance(std::chrono::hours(1));
  }
  EXPECT_TRUE(store_->ListLines(a_.id).value().at(0).password);
}

TEST_F(PipelineTest, FirstFetchProvisionsAndExpiredWindowIsRecordedOnce) {
  pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(store_->FindDevice(a_.mac).value().state, core::DeviceState::kProvisioned);
  // b never fetched: its window ends, the next request records the expiry.
  clock_.Set(FromUnix(kStart + 15 * 86400));
  EXPECT_EQ(pipeline_->Handle(Request("/001565ddeeff.cfg", "001565ddeeff")).status, 404);
  EXPECT_EQ(pipeline_->Handle(Request("/001565ddeeff.cfg", "001565ddeeff")).status, 404);
  EXPECT_EQ(store_->FindDevice(b_.mac).value().state, core::DeviceState::kExpired);
  // A provisioned device keeps working after the window.
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 200);
  int expired_events = 0;
  std::vector<std::string> story;
  for (const auto& rec : AuditLines(dir_ / "audit.log")) {
    if (rec["kind"] != "lifecycle") continue;
    if (rec["device"] == "001565ddeeff" && rec["reason"] == "expired") ++expired_events;
    if (rec["device"] == "001565aabbcc") story.push_back(rec["reason"]);
  }
  EXPECT_EQ(expired_events, 1);
  EXPECT_EQ(story,
            (std::vector<std::string>{"certificate pinned", "password delivered", "provisioned", "password removed"}));
}

// A first fetch pins, provisions and delivers: its lifecycle records are not written one
// by one while the request is decided (a serving thread would wait for each commit) but
// returned with the request's record, in order, and committed with it in one batch.
TEST_F(PipelineTest, LifecycleRecordsOfADecisionAreCommittedWithItsRecord) {
  const auto batches = audit_->batches();
  Outcome outcome = pipeline_->Evaluate(Request("/001565aabbcc.cfg", "001565aabbcc"));
  EXPECT_EQ(audit_->batches(), batches);  // nothing committed while deciding
  ASSERT_EQ(outcome.response.status, 200);
  EXPECT_EQ(store_->FindDevice(a_.mac).value().state, core::DeviceState::kProvisioned);
  std::vector<std::string> order;
  for (const auto& r : outcome.TakeRecords()) order.push_back(r.kind + ":" + r.reason);
  EXPECT_EQ(order, (std::vector<std::string>{"lifecycle:certificate pinned", "lifecycle:password delivered",
                                             "lifecycle:provisioned", "request:device file"}));
  // Handle commits all of them as one batch.
  pipeline_->Handle(Request("/001565ddeeff.cfg", "001565ddeeff"));
  EXPECT_EQ(audit_->batches(), batches + 1);
  std::vector<std::string> reasons;
  for (const auto& rec : AuditLines(dir_ / "audit.log")) reasons.push_back(rec["reason"]);
  ASSERT_GE(reasons.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(reasons.end() - 4, reasons.end()),
            (std::vector<std::string>{"certificate pinned", "password delivered", "provisioned", "device file"}));
}

TEST_F(PipelineTest, FirstFetchLongAfterAssignmentLocksTheDevice) {
  tenant_.anomaly_lock = true;
  tenant_.late_first_fetch_days = 7;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  clock_.Set(FromUnix(kStart + 6 * 86400));
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 200);
  clock_.Set(FromUnix(kStart + 8 * 86400));
  EXPECT_EQ(pipeline_->Handle(Request("/001565ddeeff.cfg", "001565ddeeff")).status, 404);
  EXPECT_EQ(LastReason(), "first seen late");
  EXPECT_EQ(store_->FindDevice(b_.mac).value().locked_reason, "first seen late");
  EXPECT_EQ(defenses_->counters().Snapshot().at("locks"), 1u);
}

TEST_F(PipelineTest, CountsRefusalsByReason) {
  pipeline_->Handle(Request("/001565ddeeff.cfg", "001565aabbcc"));
  pipeline_->Handle(Request("/001565ddeeff.cfg", "001565aabbcc"));
  pipeline_->Handle(Request("/nope.cfg", "001565aabbcc"));
  const auto counters = defenses_->counters().Snapshot();
  EXPECT_EQ(counters.at("refusals.mac mismatch"), 2u);
  EXPECT_EQ(counters.at("refusals.unknown file"), 1u);
}

TEST_F(PipelineTest, LinesAreAlsoRenderedByIndexForPerAccountKeys) {
  // Htek numbers each account's settings differently: templates address lines as line<N>.
  AddDevice("001fc11c22a9", "htek", "UC903", core::DeviceState::kAssigned);
  auto r = pipeline_->Handle(Request("/cfg001fc11c22a9.xml", "001fc11c22a9"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<P35 para=\"Account1_SipUserId\">2001</P35>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(">s3cret-001fc11c22a9</P34>"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("Account2_SipUserId"), std::string::npos);
}

// --- Security findings: each test failed on the code before its fix. ---

int CountRecords(const fs::path& log, const std::string& device, const std::string& reason) {
  int n = 0;
  for (const auto& rec : AuditLines(log)) {
    if (rec.value("device", "") == device && rec.value("reason", "") == reason) ++n;
  }
  return n;
}

// One scanner behind a customer's NAT gets the address banned; the customer's 50
// certificate phones behind the same address keep working.
TEST_F(PipelineTest, ABannedSourceStillServesCertificatePhonesAskingForTheirOwnFiles) {
  std::vector<std::string> phones;
  for (int i = 0; i < 50; ++i) {
    phones.push_back(fmt::format("0015650100{:02x}", i));
    AddDevice(phones.back(), "yealink", "T54W", core::DeviceState::kAssigned);
  }
  for (int i = 0; i < 25; ++i) {  // unknown MACs, no certificate: a scan
    pipeline_->Handle(Request(fmt::format("/0015659999{:02x}.cfg", i), std::nullopt));
  }
  ASSERT_TRUE(defenses_->bans().IsBanned(net::IpAddress::Parse("192.0.2.10").value(), clock_.Now()));
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", std::nullopt)).status, 404);
  EXPECT_EQ(LastReason(), "banned source");
  for (const auto& mac : phones) {
    auto r = pipeline_->Handle(Request("/" + mac + ".cfg", mac));
    ASSERT_EQ(r.status, 200) << mac << " " << LastReason();
    EXPECT_NE(r.body.find("s3cret-" + mac), std::string::npos);
  }
  EXPECT_TRUE(AuditLines(dir_ / "audit.log").back()["detail"].contains("ban_exempt"));
}

// A scanner holding device A's certificate asks for other devices' files, some while A's
// rate limit refuses it: every such request counts, the source is banned within the
// detector's threshold, and A loses its exemption from that ban.
TEST_F(PipelineTest, AStolenCertificateAskingForOtherFilesIsBannedAndAlertedWhateverTheRateLimit) {
  int attempts = 0;
  const auto source = net::IpAddress::Parse("192.0.2.10").value();
  while (!defenses_->bans().IsBanned(source, clock_.Now()) && attempts < 100) {
    pipeline_->Handle(Request(fmt::format("/0015659999{:02x}.cfg", attempts), "001565aabbcc"));
    ++attempts;
  }
  EXPECT_LE(attempts, 20);
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 404);
  EXPECT_EQ(LastReason(), "banned source");
  EXPECT_GE(CountRecords(dir_ / "audit.log", "001565aabbcc", "identity misused"), 1);
  EXPECT_GE(defenses_->counters().Snapshot().at("identity_misuse"), 1u);
  // From another address the device itself still works (not locked: the tenant did not ask)
  // once its rate limit, which the scanner's requests spent, has refilled.
  clock_.Advance(std::chrono::seconds(30));
  auto elsewhere = Request("/001565aabbcc.cfg", "001565aabbcc");
  elsewhere.peer = *net::IpAddress::Parse("198.51.100.20");
  EXPECT_EQ(pipeline_->Handle(elsewhere).status, 200);
}

TEST_F(PipelineTest, ATenantCanLockADeviceWhoseCertificateAsksForAnotherDevicesFile) {
  tenant_.lock_on_misuse = true;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  EXPECT_EQ(pipeline_->Handle(Request("/001565ddeeff.cfg", "001565aabbcc")).status, 404);
  EXPECT_EQ(store_->FindDevice(a_.mac).value().locked_reason, "identity misused");
  auto elsewhere = Request("/001565aabbcc.cfg", "001565aabbcc");
  elsewhere.peer = *net::IpAddress::Parse("198.51.100.20");
  EXPECT_EQ(pipeline_->Handle(elsewhere).status, 404);
  EXPECT_EQ(LastReason(), "device locked: identity misused");
}

// A URL token over plain HTTP could not be served (only digest can), so a misuse with it
// must not lock the real phone either: the lock follows the same transport rule as serving.
TEST_F(PipelineTest, ATokenOverPlainHttpCannotLockTheDevice) {
  tenant_.lock_on_misuse = true;
  tenant_.allow_plain_http = true;
  tenant_.min_strength = core::IdentityStrength::kDigest;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  auto a = store_->FindDevice(a_.mac).value();
  const std::string token = defense::GenerateToken();
  a.token_hash = defense::HashToken(token);
  ASSERT_TRUE(store_->UpdateDevice(a));
  auto r = Request("/p/" + token + "/001565ddeeff.cfg", std::nullopt);
  r.tls = false;
  r.methods.token = true;
  r.user_agent.clear();
  EXPECT_EQ(pipeline_->Handle(r).status, 404);
  EXPECT_EQ(CountRecords(dir_ / "audit.log", "001565aabbcc", "identity misused"), 1);
  EXPECT_EQ(store_->FindDevice(a_.mac).value().locked_reason, "");
}

TEST_F(PipelineTest, ARateLimitedRequestForAnotherDevicesFileStillCounts) {
  for (int i = 0; i < 30; ++i) pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));
  ASSERT_EQ(LastReason(), "rate limited");  // device A's bucket is empty
  for (int i = 0; i < 20; ++i) pipeline_->Handle(Request(fmt::format("/0015659999{:02x}.cfg", i), "001565aabbcc"));
  EXPECT_EQ(LastReason(), "rate limited");  // answered 429, and still counted:
  EXPECT_TRUE(defenses_->bans().IsBanned(net::IpAddress::Parse("192.0.2.10").value(), clock_.Now()));
}

// Lifecycle and window are decided before anything that serves or changes state.
TEST_F(PipelineTest, ARetiredDeviceGetsNoKeyFileAndPinsNothing) {
  auto d = store_->FindDevice(a_.mac).value();
  d.config_key = encrypt::GenerateKey(vendors::Cipher::kYealinkAes128Ecb).value();
  d.state = core::DeviceState::kRetired;
  ASSERT_TRUE(store_->UpdateDevice(d));
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc_Security.enc", "001565aabbcc")).status, 404);
  EXPECT_EQ(LastReason(), "device retired");
  EXPECT_EQ(store_->FindDevice(a_.mac).value().pin_spki, "");
  clock_.Set(FromUnix(kStart + 15 * 86400));  // b's window has ended without a fetch
  EXPECT_EQ(pipeline_->Handle(Request("/001565ddeeff.cfg", "001565ddeeff")).status, 404);
  EXPECT_EQ(store_->FindDevice(b_.mac).value().pin_spki, "");
}

// A config-encryption key (or a file carrying one) never leaves over plain HTTP.
TEST_F(PipelineTest, KeysAndFilesCarryingThemAreRefusedOverPlainHttp) {
  tenant_.min_strength = core::IdentityStrength::kDigest;
  tenant_.allow_plain_http = true;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  const auto plain = [&](const std::string& mac, const std::string& file) {
    const auto r = DigestRequest(mac, "/" + file, false);
    const auto resp = pipeline_->Handle(r);
    EXPECT_EQ(resp.status, 404) << file;
    EXPECT_EQ(LastReason(), "key needs tls") << file;
  };
  auto y = store_->FindDevice(a_.mac).value();
  y.config_key = encrypt::GenerateKey(vendors::Cipher::kYealinkAes128Ecb).value();
  ASSERT_TRUE(store_->UpdateDevice(y));
  plain("001565aabbcc", "001565aabbcc_Security.enc");
  auto c = AddDevice("0023eb000001", "cisco", "SPA504G", core::DeviceState::kAssigned);
  c.config_key = encrypt::GenerateKey(vendors::Cipher::kOpenSslAes256CbcMd5).value();
  ASSERT_TRUE(store_->UpdateDevice(c));
  plain("0023eb000001", "0023eb000001.xml");  // carries Profile_Rule_C [--key ...]
  auto g = AddDevice("000b82000001", "grandstream", "GXP2135", core::DeviceState::kAssigned);
  g.config_key = encrypt::GenerateKey(vendors::Cipher::kOpenSslAes256CbcMd5).value();
  ASSERT_TRUE(store_->UpdateDevice(g));
  plain("000b82000001", "cfg000b82000001.xml");  // the plain copy carries filePassword
}

// A device's own file carries its passwords: over plain HTTP it goes only encrypted, with a
// key the phone received over TLS first.
TEST_F(PipelineTest, ADeviceFileGoesOverPlainHttpOnlyEncrypted) {
  tenant_.min_strength = core::IdentityStrength::kDigest;
  tenant_.allow_plain_http = true;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  const auto fetch = [&](bool tls) {
    return pipeline_->Handle(DigestRequest("001565aabbcc", "/001565aabbcc.cfg", tls));
  };
  EXPECT_EQ(fetch(false).status, 404);
  EXPECT_EQ(LastReason(), "device file needs tls or encryption");
  auto y = store_->FindDevice(a_.mac).value();
  y.config_key = encrypt::GenerateKey(vendors::Cipher::kYealinkAes128Ecb).value();
  ASSERT_TRUE(store_->UpdateDevice(y));
  EXPECT_EQ(fetch(false).status, 404);  // the phone has not received its key yet
  EXPECT_EQ(LastReason(), "device file needs tls or encryption");
  const auto first = fetch(true);  // the plain copy that hands the phone its key, over TLS
  ASSERT_EQ(first.status, 200);
  EXPECT_TRUE(first.body.starts_with("#!version"));
  const auto encrypted = fetch(false);
  ASSERT_EQ(encrypted.status, 200);
  EXPECT_FALSE(encrypted.body.starts_with("#!version"));
  EXPECT_EQ(encrypted.content_type, "application/octet-stream");
  // A digest answer seen on the plain path does not open the key file over TLS: its nonce
  // was issued for plain HTTP.
  auto captured = DigestRequest("001565aabbcc", "/001565aabbcc_Security.enc", false);
  captured.tls = true;
  EXPECT_EQ(pipeline_->Handle(captured).status, 401);
  EXPECT_EQ(LastReason(), "digest nonce invalid");
  // A URL token is never accepted over plain HTTP: it would cross the network in clear, and
  // anyone on the path could replay it over TLS for the key file.
  y = store_->FindDevice(a_.mac).value();
  const std::string token = defense::GenerateToken();
  y.token_hash = defense::HashToken(token);
  ASSERT_TRUE(store_->UpdateDevice(y));
  for (const std::string file : {"001565aabbcc.cfg", "001565aabbcc_Security.enc"}) {
    auto by_token = Request("/p/" + token + "/" + file, std::nullopt);
    by_token.tls = false;
    by_token.methods.token = true;
    by_token.user_agent.clear();
    EXPECT_EQ(pipeline_->Handle(by_token).status, 404) << file;
    EXPECT_EQ(LastReason(), "plain http not allowed") << file;
  }
}

// A refused plain-HTTP request changes nothing: an engineer window that has ended is closed
// (its password rotated) only by a request that is then served.
TEST_F(PipelineTest, APlainHttpRefusalLeavesTheEngineerWindowAlone) {
  tenant_.min_strength = core::IdentityStrength::kDigest;
  tenant_.allow_plain_http = true;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  auto d = store_->FindDevice(a_.mac).value();
  d.admin_password = "Engineer-Knows-1";
  d.engineer_window_ends = kStart - 1;
  ASSERT_TRUE(store_->UpdateDevice(d));
  const auto r = DigestRequest("001565aabbcc", "/001565aabbcc.cfg", false);
  EXPECT_EQ(pipeline_->Handle(r).status, 404);
  EXPECT_EQ(LastReason(), "device file needs tls or encryption");
  const auto stored = store_->FindDevice(a_.mac).value();
  EXPECT_EQ(stored.admin_password, "Engineer-Knows-1");
  EXPECT_EQ(stored.engineer_window_ends, kStart - 1);
  EXPECT_EQ(CountRecords(dir_ / "audit.log", "001565aabbcc", "engineer password rotated"), 0);
}

// HEAD is answered like GET and changes nothing: no password spent, nothing pinned.
TEST_F(PipelineTest, HeadSpendsNoPasswordAndPinsNothing) {
  auto head = Request("/001565aabbcc.cfg", "001565aabbcc");
  head.method = "HEAD";
  EXPECT_EQ(pipeline_->Handle(head).status, 200);
  const auto after_head = store_->FindDevice(a_.mac).value();
  EXPECT_EQ(after_head.pin_spki, "");
  EXPECT_EQ(after_head.state, core::DeviceState::kAssigned);
  EXPECT_FALSE(store_->ListLines(a_.id).value().at(0).delivered_at);
  EXPECT_EQ(PasswordIn(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).body), "s3cret-001565aabbcc");
}

// What a client writes is kept in its record only up to a bound, with a marker.
TEST_F(PipelineTest, ClientTextInRecordsIsBounded) {
  auto r = Request("/" + std::string(3000, 'a') + ".cfg", std::nullopt);
  r.user_agent = std::string(8000, 'x');
  pipeline_->Handle(r);
  const auto rec = AuditLines(dir_ / "audit.log").back();
  const std::string ua = rec["user_agent"];
  EXPECT_LE(ua.size(), audit::kMaxClientTextBytes + 20);
  EXPECT_NE(ua.find("...[+7488 bytes]"), std::string::npos) << ua;
  EXPECT_LE(std::string(rec["file"]).size(), audit::kMaxClientTextBytes + 20);
}

// A flood of refusals from one source is answered 429 after its budget; devices elsewhere
// are served all along.
TEST_F(PipelineTest, AFloodOfRefusalsIsLimitedPerSourceAndDevicesAreStillServed) {
  int limited = 0;
  for (int i = 0; i < 300; ++i) {
    auto bad = Request("/a/b/c", std::nullopt);
    bad.peer = *net::IpAddress::Parse("203.0.113.66");
    if (pipeline_->Handle(bad).status == 429) ++limited;
  }
  EXPECT_GE(limited, 150);
  EXPECT_EQ(LastReason(), "refusals rate limited");
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 200);
}

// Deliver-once end to end for every vendor, with and without a config key: a password is
// claimed exactly when the bytes the phone can read carry it, and reaches the phone once.
TEST_F(PipelineTest, DeliverOnceReachesEveryVendorsPhoneExactlyOnce) {
  const std::pair<const char*, const char*> models[] = {
      {"yealink", "T54W"}, {"polycom", "VVX450"}, {"cisco", "SPA504G"}, {"grandstream", "GXP2135"},
      {"snom", "D785"},    {"fanvil", "X4U"},     {"gigaset", "N870"},  {"htek", "UC926"}};
  int n = 0;
  for (const auto& [vendor_name, model] : models) {
    const vendors::Vendor* vendor = vendors_.Find(vendor_name);
    ASSERT_NE(vendor, nullptr);
    for (const bool with_key : {false, true}) {
      const std::string mac = fmt::format("00aa00bb00{:02x}", n++);
      auto d = AddDevice(mac, vendor_name, model, core::DeviceState::kAssigned);
      const auto boot = vendor->BootFiles(d.mac, model);
      std::optional<vendors::EncryptionScheme> scheme;
      for (const auto& f : boot) {
        if (auto route = vendor->Route(f)) {
          if (auto s = vendor->Encryption(*route)) scheme = s;
        }
      }
      if (with_key) {
        if (!scheme) continue;  // this vendor has no config encryption
        d.config_key = encrypt::GenerateKey(scheme->cipher).value();
        ASSERT_TRUE(store_->UpdateDevice(d));
      }
      const std::string password = "s3cret-" + mac;
      bool phone_has_key = false;
      int carried = 0;
      for (int round = 0; round < 2; ++round) {
        for (const auto& f : boot) {
          auto req = Request("/" + f, mac);
          req.user_agent.clear();
          const auto r = pipeline_->Handle(req);
          if (r.status != 200) continue;
          std::string readable = r.body;
          if (r.content_type == "application/octet-stream" && d.config_key) {
            if (scheme->delivery == vendors::KeyDelivery::kKeyFile) {
              if (auto key_file = vendor->RouteKeyFile(mac + "_Security.enc")) {
                auto kr = Request("/" + mac + "_Security.enc", mac);
                kr.user_agent.clear();
                phone_has_key = phone_has_key || pipeline_->Handle(kr).status == 200;
              }
            }
            ASSERT_TRUE(phone_has_key) << vendor_name << " " << f << ": encrypted with a key the phone cannot have yet";
            readable = encrypt::Decrypt(scheme->cipher, *d.config_key, r.body).value();
          } else if (d.config_key && r.body.find(*d.config_key) != std::string::npos) {
            phone_has_key = true;
          }
          if (readable.find(password) != std::string::npos) ++carried;
        }
      }
      EXPECT_EQ(carried, 1) << vendor_name << " " << model << (with_key ? " with key" : "");
      EXPECT_EQ(CountRecords(dir_ / "audit.log", mac, "password delivered"), 1)
          << vendor_name << " " << model << (with_key ? " with key" : "");
    }
  }
}

// A banned source that sends token-shaped paths (or any CA-valid certificate of an unknown
// device) spends the source's rate limit (burst 200) like the same requests unbanned.
TEST_F(PipelineTest, ABannedSourceWithMadeUpTokensSpendsTheSourcesRateLimit) {
  for (int i = 0; i < 25; ++i) pipeline_->Handle(Request(fmt::format("/0015659999{:02x}.cfg", i), std::nullopt));
  ASSERT_TRUE(defenses_->bans().IsBanned(net::IpAddress::Parse("192.0.2.10").value(), clock_.Now()));
  int limited = 0;
  for (int i = 0; i < 300; ++i) {
    auto r = Request("/p/" + defense::GenerateToken() + "/001565aabbcc.cfg", std::nullopt);
    r.methods.token = true;
    if (pipeline_->Handle(r).status == 429) ++limited;
  }
  EXPECT_GE(limited, 90);
}

// Requests naming another device's file are counted, but answered within the device's rate
// limit, and the incident is recorded once per scan window, not once per request.
TEST_F(PipelineTest, RequestsForAnotherDevicesFileAreRateLimitedAndRecordedOnce) {
  defense::ScanDetectorOptions quiet;  // no ban in this test: only the limit and the records
  quiet.per_address = {0, 0};
  quiet.per_aggregate = {0, 0};
  auto options = DefaultDefenseOptions();
  options.scan = quiet;
  UseDefenses(options, *store_, PipelineOptions{});
  int limited = 0;
  for (int i = 0; i < 100; ++i) {
    if (pipeline_->Handle(Request("/001565ddeeff.cfg", "001565aabbcc")).status == 429) ++limited;
  }
  EXPECT_GE(limited, 70);
  EXPECT_EQ(CountRecords(dir_ / "audit.log", "001565aabbcc", "identity misused"), 1);
}

// With lock_on_misuse, a stolen certificate that the tenant's policy already makes useless
// (outside its ranges), or a HEAD, cannot lock the real phone.
TEST_F(PipelineTest, AMisuseLockNeedsARequestThatCouldHaveBeenServed) {
  tenant_.lock_on_misuse = true;
  tenant_.ip_ranges = net::IpSet::Parse({"10.0.0.0/8"}).value();
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  EXPECT_EQ(pipeline_->Handle(Request("/001565ddeeff.cfg", "001565aabbcc")).status, 404);
  EXPECT_EQ(store_->FindDevice(a_.mac).value().locked_reason, "");
  tenant_.ip_ranges = net::IpSet();
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  auto head = Request("/001565ddeeff.cfg", "001565aabbcc");
  head.method = "HEAD";
  clock_.Advance(std::chrono::hours(1));  // a new scan window: a new incident
  EXPECT_EQ(pipeline_->Handle(head).status, 404);
  EXPECT_EQ(store_->FindDevice(a_.mac).value().locked_reason, "");
  // A HEAD with a changed certificate key is refused without locking either.
  pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc"));  // pins
  auto other_key = Request("/001565aabbcc.cfg", "001565aabbcc");
  other_key.method = "HEAD";
  other_key.cert->spki_sha256 = "another-key";
  EXPECT_EQ(pipeline_->Handle(other_key).status, 404);
  EXPECT_EQ(LastReason(), "certificate key changed");
  EXPECT_EQ(store_->FindDevice(a_.mac).value().locked_reason, "");
}

// A tenant whose stored source ranges do not parse: its devices' requests fail loudly (500,
// counted as an internal error, the store's error naming the tenant), where such a list
// used to match no client and the devices were refused as if they stood outside it.
TEST_F(PipelineTest, UnparsableStoredRangesAreAnInternalErrorNotARefusal) {
  tenant_.ip_ranges = net::IpSet::Parse({"10.0.0.0/8"}).value();
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  {
    auto db = store::sqlite::Connection::Open(dir_ / "p.db").value();
    ASSERT_TRUE(db.Exec(R"(UPDATE tenants SET ip_ranges = '["10.0.0.0/33"]')"));
  }
  const std::uint64_t before = pipeline_->internal_errors();
  EXPECT_EQ(pipeline_->Handle(Request("/001565aabbcc.cfg", "001565aabbcc")).status, 500);
  EXPECT_EQ(pipeline_->internal_errors(), before + 1);
  const auto read = store_->GetTenant(tenant_.id);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find("tenant " + std::to_string(tenant_.id)), std::string::npos);
}

// A ban the store cannot write ends the request before the incident is handled: a request
// that ends in a 500 locks nothing and leaves no lifecycle record behind.
TEST_F(PipelineTest, ABanThatCannotBeWrittenStopsTheRequestBeforeTheLock) {
  struct FailingBans final : defense::BanStore {
    Status SaveBan(const defense::Ban&) override { return Error::Unavailable("ban store: disk full"); }
    Result<std::vector<defense::Ban>> LoadActiveBans(std::int64_t) override { return std::vector<defense::Ban>{}; }
    Status RemoveBan(const std::string&) override { return Ok(); }
  };
  static FailingBans bans;  // outlives the fixture's pipeline
  tenant_.lock_on_misuse = true;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  auto options = DefaultDefenseOptions();
  options.scan.per_address = {1, 0};  // the first wrong MAC bans the source
  UseDefenses(options, bans, PipelineOptions{});
  EXPECT_EQ(pipeline_->Handle(Request("/001565ddeeff.cfg", "001565aabbcc")).status, 500);
  EXPECT_EQ(store_->FindDevice(a_.mac).value().locked_reason, "");
  EXPECT_EQ(CountRecords(dir_ / "audit.log", "001565aabbcc", "identity misused"), 0);
}

// On the source-range path nothing is proven yet: a tenant whose stored ranges do not parse
// identifies nobody, and a request naming one of its MACs is refused exactly like one naming
// an unknown MAC (invariant 2); its audit record says why.
TEST_F(PipelineTest, UnreadableRangesOnTheSourceRangePathAnswerLikeAnUnknownMac) {
  tenant_.ip_ranges = net::IpSet::Parse({"192.0.2.0/24"}).value();
  tenant_.ip_as_identity = true;
  tenant_.min_strength = core::IdentityStrength::kIpRange;
  ASSERT_TRUE(store_->UpdateTenant(tenant_));
  auto named = [&](const std::string& mac) {
    DeviceRequest r = Request("/" + mac + ".cfg", std::nullopt);
    r.methods = AllowedMethods{};
    return pipeline_->Handle(r);
  };
  ASSERT_EQ(named("001565aabbcc").status, 200);  // the source range identifies A
  {
    auto db = store::sqlite::Connection::Open(dir_ / "p.db").value();
    ASSERT_TRUE(db.Exec(R"(UPDATE tenants SET ip_ranges = '["192.0.2.0/33"]')"));
  }
  const auto known = named("001565ddeeff");
  const std::string known_reason = LastReason();
  const auto known_detail = AuditLines(dir_ / "audit.log").back()["detail"];
  const auto unknown = named("0015659999aa");
  EXPECT_EQ(known.status, unknown.status);
  EXPECT_EQ(known.body, unknown.body);
  EXPECT_EQ(known_reason, LastReason());
  EXPECT_NE(known_detail.value("ip_identity", "").find("tenant " + std::to_string(tenant_.id)), std::string::npos)
      << known_detail.dump();
}

// Only unknown MACs count towards a ban, so a ban answered differently from the request's
// own refusal would tell which named MAC exists: a banned source gets the same challenge.
TEST_F(PipelineTest, ABanRevealsNothingAboutTheMacThatRaisedIt) {
  auto options = DefaultDefenseOptions();
  options.uploads_dir = dir_ / "uploads";
  options.scan.per_address = {2, 0};
  options.scan.per_aggregate = {0, 0};
  UseDefenses(options, *store_, PipelineOptions{});
  auto ask = [&](const std::string& mac, const char* peer) {
    auto r = Request("/" + mac + ".cfg", std::nullopt);
    r.methods.digest = true;
    r.peer = *net::IpAddress::Parse(peer);
    return pipeline_->Handle(r).status;
  };
  // Source 1 names a MAC that exists, source 2 one that does not, each after one unknown MAC.
  EXPECT_EQ(ask("0015650000a1", "198.51.100.1"), 401);
  EXPECT_EQ(ask("001565ddeeff", "198.51.100.1"), 401);
  EXPECT_EQ(ask("0015650000a1", "198.51.100.2"), 401);
  EXPECT_EQ(ask("0015650000a2", "198.51.100.2"), 401);
  const int after_known = ask("0015650000a1", "198.51.100.1");
  const int after_unknown = ask("0015650000a1", "198.51.100.2");
  EXPECT_EQ(after_known, after_unknown) << "known MAC -> " << after_known << ", unknown MAC -> " << after_unknown;
}

struct CountingFailingBans final : defense::BanStore {
  int saves = 0;
  Status SaveBan(const defense::Ban&) override {
    ++saves;
    return Error::Unavailable("ban store: disk full");
  }
  Result<std::vector<defense::Ban>> LoadActiveBans(std::int64_t) override { return std::vector<defense::Ban>{}; }
  Status RemoveBan(const std::string&) override { return Ok(); }
};

// A ban the store refuses: the request's signal is acted on once (one offence, not two), and
// the aggregate's ban is still raised, at least in this node's memory.
TEST_F(PipelineTest, AScanSignalIsActedOnOnceAndEveryBanItRaisesIsTried) {
  static CountingFailingBans bans;
  auto options = DefaultDefenseOptions();
  options.scan.per_address = {1, 0};
  options.scan.per_aggregate = {1, 0};
  UseDefenses(options, bans, PipelineOptions{});
  EXPECT_EQ(pipeline_->Handle(Request("/001565ddeeff.cfg", "001565aabbcc")).status, 500);
  EXPECT_EQ(bans.saves, 2) << "one save per signal (host and aggregate), each tried once";
  const auto host = defenses_->bans().Find(*net::IpAddress::Parse("192.0.2.10"), clock_.Now());
  ASSERT_TRUE(host);
  EXPECT_EQ(host->offence_count, 1) << "one request, one offence";
  // "Cached first: if the store is down the ban still protects this node" - the /24 too.
  EXPECT_TRUE(defenses_->bans().IsBanned(*net::IpAddress::Parse("192.0.2.99"), clock_.Now()));
}

// Defenses that take X-Forwarded-For from `proxy`.
DefenseOptions BehindProxy(const char* proxy) {
  auto options = DefaultDefenseOptions();
  options.trusted_proxies =
      net::TrustedProxies{net::IpSet::Parse({proxy}).value(), net::ForwardedHeader::kXForwardedFor};
  return options;
}

// A client behind a trusted proxy pads its own X-Forwarded-For line past the header's bounds
// and scans for MACs: it is still the one banned, never the proxy's address, which every
// phone behind it shares.
TEST_F(PipelineTest, AClientPaddingItsForwardingLineCannotGetTheProxyBanned) {
  UseDefenses(BehindProxy("10.0.0.5"), *store_);
  for (int i = 0; i < 25; ++i) {
    auto r = Request(fmt::format("/0015659999{:02x}.cfg", i), std::nullopt);
    r.peer = *net::IpAddress::Parse("10.0.0.5");
    r.x_forwarded_for = std::string(net::kMaxForwardedHops + 6, ',') + "203.0.113.9";
    EXPECT_EQ(pipeline_->Handle(r).status, 404);
  }
  EXPECT_FALSE(defenses_->bans().IsBanned(*net::IpAddress::Parse("10.0.0.5"), clock_.Now()));
  EXPECT_TRUE(defenses_->bans().IsBanned(*net::IpAddress::Parse("203.0.113.9"), clock_.Now()));
}

// Requests that name no client (a malformed hop where the client should be) are refused
// within the proxy's refusal budget: past it, 429s that do not wait for the disk.
TEST_F(PipelineTest, UnattributableRequestsSpendTheProxysRefusalBudget) {
  UseDefenses(BehindProxy("10.0.0.5"), *store_);
  int limited = 0;
  int durable = 0;
  for (int i = 0; i < 1000; ++i) {
    auto r = Request("/001565aabbcc.cfg", std::nullopt);
    r.peer = *net::IpAddress::Parse("10.0.0.5");
    r.x_forwarded_for = "unknown";
    const auto out = pipeline_->Evaluate(r);
    limited += out.response.status == 429 ? 1 : 0;
    durable += out.durability == audit::Durability::kDurable ? 1 : 0;
  }
  EXPECT_GE(limited, 850);
  EXPECT_LE(durable, 150);
}

// Once its own ban is in force, one address's further failures (made-up URL tokens, failed
// client-certificate handshakes) count toward nothing: they would otherwise reach its /24
// aggregate and ban every neighbour.
TEST_F(PipelineTest, ABannedAddressCannotBanItsWholeSlash24WithMadeUpTokens) {
  const auto attacker = *net::IpAddress::Parse("198.51.100.66");
  for (int i = 0; i < 100; ++i) {
    auto r = Request("/p/" + defense::GenerateToken() + "/001565aabbcc.cfg", std::nullopt);
    r.peer = attacker;
    r.methods.token = true;
    pipeline_->Evaluate(r);
  }
  ASSERT_TRUE(defenses_->bans().IsBanned(attacker, clock_.Now()));
  EXPECT_FALSE(defenses_->bans().IsBanned(*net::IpAddress::Parse("198.51.100.7"), clock_.Now()));
  ASSERT_EQ(defenses_->bans().List(clock_.Now()).size(), 1u);
  EXPECT_EQ(defenses_->bans().List(clock_.Now())[0].offence_count, 1);
}

TEST_F(PipelineTest, ABannedAddressCannotBanItsWholeSlash24WithFailedHandshakes) {
  const auto attacker = *net::IpAddress::Parse("198.51.100.66");
  for (int i = 0; i < 100; ++i) pipeline_->RecordHandshakeFailure(attacker, "devices", "198.51.100.66:4000");
  ASSERT_TRUE(defenses_->bans().IsBanned(attacker, clock_.Now()));
  EXPECT_FALSE(defenses_->bans().IsBanned(*net::IpAddress::Parse("198.51.100.7"), clock_.Now()));
}

// Only unknown MACs count toward a ban, so a ban that showed in the 429s (when they begin,
// whether they carry Retry-After) would tell whether the last MAC asked for exists.
TEST_F(PipelineTest, ABannedSourcesRateLimitLooksLikeAnUnbannedOnes) {
  ASSERT_TRUE(defenses_->bans().BanSource(net::Cidr::Host(*net::IpAddress::Parse("192.0.2.66")), "test", clock_.Now()));
  auto first_429 = [&](const char* ip) {
    for (int i = 1; i <= 400; ++i) {
      auto r = Request("/001565aabbcc.cfg", std::nullopt);
      r.peer = *net::IpAddress::Parse(ip);
      const auto outcome = pipeline_->Evaluate(r);
      if (outcome.response.status == 429) return std::pair<int, std::int64_t>{i, outcome.response.retry_after};
    }
    return std::pair<int, std::int64_t>{0, 0};
  };
  const auto banned = first_429("192.0.2.66");
  const auto unbanned = first_429("192.0.2.77");
  EXPECT_GT(unbanned.first, 0);
  EXPECT_EQ(banned.first, unbanned.first);
  EXPECT_EQ(banned.second, unbanned.second);
}

}  // namespace
}  // namespace provgate::pipeline
