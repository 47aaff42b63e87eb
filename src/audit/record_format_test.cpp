#include "audit/record_format.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "audit/test_support.hpp"

namespace provgate::audit {
namespace {

using test_support::Allowed;
using test_support::JsonLine;

// A record with every field set to something other than its default.
AuditRecord EveryField() {
  AuditRecord r;
  r.time = FromUnix(1700000000) + std::chrono::milliseconds(7);
  r.listener = "devices";
  r.peer = "192.0.2.7:5060";
  r.method = "GET";
  r.file = "/001565aabbcc.cfg";
  r.user_agent = "Yealink SIP-T54W 96.86.0.100";
  r.identity_source = "client-cert";
  r.cert_subject = "CN=001565aabbcc";
  r.mac = "001565aabbcc";
  r.url_mac = "001565aabbcd";
  r.device = "001565aabbcc";
  r.decision = "deny";
  r.reason = "mac mismatch";
  r.status = 404;
  r.bytes = 1234567890123ULL;
  r.duration_ms = 12.3456789;
  r.actor = "cli";
  r.detail = {{"cause", "x"}, {"n", 3}};
  return r;
}

// The writer builds lines without a JSON tree: each field must come back as it went in,
// keys sorted (the order lines had when nlohmann::json wrote them), empty ones left out.
TEST(RecordFormat, LineHoldsEveryFieldInSortedOrder) {
  AuditRecord r = EveryField();
  const store::DeviceSeen seen{42, 1700000001, "192.0.2.7", "ua \"quoted\"", "96.86.0.100"};
  std::string line;
  r.AppendJson(line, "00aa", 9, &seen);
  const auto ordered = nlohmann::ordered_json::parse(line);
  std::vector<std::string> keys;
  for (const auto& [key, value] : ordered.items()) keys.push_back(key);
  // Strictly ascending: sorted, and no key twice.
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end(), std::greater_equal<>()), keys.end()) << line;
  EXPECT_EQ(keys.size(), 22u) << line;
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2023-11-14T22:13:20.007Z");
  for (const auto& [key, want] :
       std::vector<std::pair<std::string, std::string>>{{"listener", r.listener},
                                                        {"peer", r.peer},
                                                        {"method", r.method},
                                                        {"file", r.file},
                                                        {"user_agent", r.user_agent},
                                                        {"identity_source", r.identity_source},
                                                        {"cert_subject", r.cert_subject},
                                                        {"mac", r.mac},
                                                        {"url_mac", r.url_mac},
                                                        {"device", r.device},
                                                        {"decision", r.decision},
                                                        {"reason", r.reason},
                                                        {"actor", r.actor},
                                                        {"kind", "request"},
                                                        {"run", "00aa"}}) {
    EXPECT_EQ(j[key], want) << key;
  }
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["bytes"], 1234567890123ULL);
  EXPECT_TRUE(j["duration_ms"].is_number_float());
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 12.346);  // to the microsecond
  EXPECT_EQ(j["seq"], 9);
  EXPECT_EQ(j["detail"], r.detail);
  EXPECT_EQ(j["seen"], (nlohmann::json{{"device_id", 42},
                                       {"time", 1700000001},
                                       {"ip", "192.0.2.7"},
                                       {"user_agent", "ua \"quoted\""},
                                       {"firmware", "96.86.0.100"}}));
  const auto parsed = ParseStoredLine(line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->seen, seen);

  // JSON has no NaN: a duration that is not a number is written as null, the line stays JSON.
  r.duration_ms = std::nan("");
  EXPECT_TRUE(nlohmann::json::parse(JsonLine(r))["duration_ms"].is_null());

  // Not a request: no numbers; empty strings and an empty detail are left out.
  AuditRecord info = InfoRecord(FromUnix(1700000000), "admin", "cli", "device added", "", {});
  EXPECT_EQ(JsonLine(info), R"({"actor":"cli","decision":"info","kind":"admin","reason":"device added",)"
                            R"("time":"2023-11-14T22:13:20.000Z"})");
}

TEST(RecordFormat, LineEscapesWhatJsonMustAndReplacesInvalidUtf8) {
  AuditRecord r;
  r.decision = "deny";
  for (const std::string& ua :
       {std::string("quote \" backslash \\ slash /"), std::string("tab\tnew\nline\r"), std::string("\x01\x1f\x7f"),
        std::string("Gr\xc3\xbc\xc3\x9f"
                    "e \xe2\x82\xac"),
        std::string("nul\0inside", 10)}) {
    r.user_agent = ua;
    const std::string line = JsonLine(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(line)["user_agent"], ua) << line;
  }
  for (int b = 0; b < 256; ++b) {
    r.user_agent = std::string("a") + static_cast<char>(b) + "z";
    const auto j = nlohmann::json::parse(JsonLine(r));
    if (b < 0x80) {
      EXPECT_EQ(j["user_agent"], r.user_agent) << b;
    } else {
      EXPECT_EQ(j["user_agent"], "a\xef\xbf\xbdz") << b;  // U+FFFD
    }
  }
}

// A new field must be cleared too: the line of a cleared record is a new record's.
TEST(RecordFormat, ClearedRecordIsANewRecordThatKeepsItsMemory) {
  AuditRecord r = EveryField();
  r.kind = "lifecycle";
  const size_t user_agent_memory = r.user_agent.capacity();
  r.Clear();
  EXPECT_EQ(JsonLine(r), JsonLine(AuditRecord{}));
  EXPECT_EQ(r.user_agent.capacity(), user_agent_memory);
}

TEST(RecordFormat, AMalformedSeenLeavesTheRecordAndDropsTheUpdate) {
  auto j = nlohmann::json::parse(JsonLine(Allowed()));
  j["seen"] = {{"device_id", 7}, {"time", 1700000000}, {"ip", "192.0.2.1"}, {"user_agent", "ua"}, {"firmware", ""}};
  EXPECT_EQ(ParseStoredLine(j.dump())->seen->device_id, 7);
  auto negative = j["seen"];
  negative["device_id"] = -7;
  for (const nlohmann::json& bad : {nlohmann::json("x"), nlohmann::json{{"device_id", "7"}},
                                    nlohmann::json{{"device_id", 7}, {"time", 1.5}}, negative}) {
    j["seen"] = bad;
    const auto line = ParseStoredLine(j.dump());
    ASSERT_TRUE(line) << bad;
    EXPECT_FALSE(line->seen) << bad;
  }
}

TEST(RecordFormat, StoredLineIsParsedBackFromTheFile) {
  AuditRecord r;
  r.time = FromUnix(1700000000) + std::chrono::milliseconds(123);
  r.device = "001565aabbcc";
  r.mac = "805ec0000001";
  r.decision = "allow";
  r.reason = "device file";
  const std::string line = JsonLine(r);
  auto got = ParseStoredLine(line);
  ASSERT_TRUE(got);
  const auto& e = got->event;
  EXPECT_EQ(e.time, 1700000000);
  EXPECT_EQ(e.kind, "request");
  EXPECT_EQ(e.mac, "001565aabbcc");  // the device it matched wins over the presented MAC
  EXPECT_EQ(e.decision, "allow");
  EXPECT_EQ(e.reason, "device file");
  EXPECT_EQ(e.json, line);
  EXPECT_EQ(got->run, "");  // not the server's
  EXPECT_EQ(ParseRfc3339(FormatRfc3339(r.time)), r.time);
  std::string numbered;
  r.AppendJson(numbered, "00aa", 42);
  got = ParseStoredLine(numbered);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->run, "00aa");
  EXPECT_EQ(got->seq, 42);
  for (const char* bad : {"", "{", "[]", R"({"kind":"request","decision":"allow"})",
                          R"({"time":"2023-11-14T22:13:20.123Z","kind":"request"})",
                          R"({"time":"2023-11-14 22:13:20","kind":"request","decision":"allow"})",
                          R"({"time":"2023-13-14T22:13:20.123Z","kind":"request","decision":"allow"})",
                          R"({"time":"2023-11-14T22:13:20.123Z","kind":"request","decision":"allow","mac":7})",
                          R"({"time":"2023-11-14T22:13:20.123Z","kind":"request","decision":"allow","seq":-1})",
                          R"({"time":"2023-11-14T22:13:20.123Z","kind":"request","decision":"allow","seq":"1"})"}) {
    EXPECT_FALSE(ParseStoredLine(bad)) << bad;
  }
}

}  // namespace
}  // namespace provgate::audit
