#include "bench/options.hpp"

#include <gtest/gtest.h>

#include "bench/device_certs.hpp"

namespace provgate::bench {
namespace {

std::vector<std::string> Base(std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"--port", "8443", "--certs", "certs", "--cacert", "ca.crt"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// Parses arguments that must be accepted (value() fails the test by throwing otherwise).
LoadgenOptions Parsed(const std::vector<std::string>& args) { return ParseLoadgenArgs(args).value(); }

TEST(IsLoopbackAddress, AcceptsOnlyNumericLoopback) {
  for (const char* ok : {"127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "[::1]", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackAddress(ok)) << ok;
  }
  for (const char* bad : {"localhost", "10.0.0.1", "128.0.0.1", "0.0.0.0", "::", "::2", "::ffff:10.0.0.1",
                          "example.com", "", "127.0.0.1 ", "127.0.0.1:80", "fe80::1"}) {
    EXPECT_FALSE(IsLoopbackAddress(bad)) << bad;
  }
}

TEST(ParseLoadgenArgs, DefaultsAreClosedLoopPerRequestTls13) {
  const auto o = Parsed(Base());
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 8443);
  EXPECT_EQ(o.conn, ConnMode::kPerRequest);
  EXPECT_EQ(o.tls, TlsVersion::kTls13);
  EXPECT_EQ(o.concurrency, 16);
  EXPECT_EQ(o.rate, 0);
  EXPECT_EQ(o.count, kMaxCount);
  EXPECT_EQ(o.expect_status, 200);
}

TEST(ParseLoadgenArgs, ReadsEveryOption) {
  const auto o = Parsed(Base({"--host=::1",
                              "--conn",
                              "keep-alive",
                              "--tls",
                              "1.2",
                              "--concurrency",
                              "64",
                              "--duration",
                              "2.5",
                              "--count",
                              "500",
                              "--timeout-ms",
                              "100",
                              "--requests-per-conn",
                              "7",
                              "--verify-status",
                              "--server-pid",
                              "12",
                              "--server-pid=13",
                              "--devices",
                              "10",
                              "--label",
                              "x"}));
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.conn, ConnMode::kKeepAlive);
  EXPECT_EQ(o.tls, TlsVersion::kTls12);
  EXPECT_EQ(o.concurrency, 64);
  EXPECT_DOUBLE_EQ(o.duration_s, 2.5);
  EXPECT_EQ(o.count, 500U);
  EXPECT_EQ(o.timeout_ms, 100);
  EXPECT_EQ(o.requests_per_conn, 7);
  EXPECT_TRUE(o.verify_body);
  EXPECT_EQ(o.server_pids, (std::vector<int>{12, 13}));
  EXPECT_EQ(o.devices, 10U);
}

TEST(ParseLoadgenArgs, RefusesNonLoopbackTargets) {
  for (const char* host : {"192.168.1.10", "localhost", "8.8.8.8", "::ffff:8.8.8.8"}) {
    const auto o = ParseLoadgenArgs(Base({"--host", host}));
    ASSERT_TRUE(o.has_error()) << host;
    EXPECT_NE(o.error().message.find("loopback"), std::string::npos);
  }
}

TEST(ParseLoadgenArgs, OpenLoopNeedsNewConnectionPerRequest) {
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--rate", "600", "--conn", "keep-alive"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--rate", "600", "--conn", "per-device"})).has_error());
  EXPECT_EQ(Parsed(Base({"--rate", "600"})).concurrency, 1024);  // in-flight cap, not a width
  EXPECT_EQ(Parsed(Base({"--rate", "600", "--concurrency", "50"})).concurrency, 50);
}

TEST(ParseLoadgenArgs, EveryRunIsBounded) {
  for (auto bad : std::vector<std::vector<std::string>>{{"--duration", "0"},
                                                        {"--duration", "-1"},
                                                        {"--duration", "3601"},
                                                        {"--duration", "nan"},
                                                        {"--count", "0"},
                                                        {"--count", "100000001"},
                                                        {"--concurrency", "0"},
                                                        {"--concurrency", "20001"},
                                                        {"--rate", "0"},
                                                        {"--rate", "1e9"},
                                                        {"--timeout-ms", "0"},
                                                        {"--timeout-ms", "60001"}}) {
    EXPECT_TRUE(ParseLoadgenArgs(Base(bad)).has_error()) << bad[0] << " " << bad[1];
  }
}

TEST(ParseLoadgenArgs, RefusesMalformedInput) {
  EXPECT_TRUE(ParseLoadgenArgs({"--certs", "c", "--cacert", "ca"}).has_error());  // no port
  EXPECT_TRUE(ParseLoadgenArgs({"--port", "1", "--cacert", "ca"}).has_error());   // no certs
  EXPECT_TRUE(ParseLoadgenArgs({"--port", "1", "--certs", "c"}).has_error());     // no CA
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--port", "70000"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--port", "12x"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--tls", "1.1"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--conn", "pipelined"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--bogus", "1"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"stray"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--concurrency"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--verify-status=yes"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--common-file", "../etc/passwd"})).has_error());
  EXPECT_TRUE(ParseLoadgenArgs(Base({"--wrong-device", "--devices", "1"})).has_error());
}

TEST(ParseLoadgenArgs, WrongDeviceExpects404) {
  const auto o = Parsed(Base({"--wrong-device"}));
  EXPECT_EQ(o.sequence, Sequence::kWrongDevice);
  EXPECT_EQ(o.expect_status, 404);
}

TEST(DeviceMac, NumbersDevicesBelowTheOui) {
  EXPECT_EQ(DeviceMac("001565", 0, 0).value(), "001565000000");
  EXPECT_EQ(DeviceMac("001565", 0x100000, 0xabc).value(), "001565100abc");
  EXPECT_EQ(DeviceMac("805ec0", 0, 0xffffff).value(), "805ec0ffffff");
  EXPECT_TRUE(DeviceMac("805ec0", 1, 0xffffff).has_error());
  EXPECT_TRUE(DeviceMac("00156", 0, 0).has_error());
  EXPECT_TRUE(DeviceMac("00156G", 0, 0).has_error());
  EXPECT_TRUE(DeviceMac("00156A", 0, 0).has_error());
}

}  // namespace
}  // namespace provgate::bench
