#include "catch.h"

#include "policy/capabilities.h"
#include "policy/ip.h"

#include <array>
#include <cstring>
#include <random>
#include <vector>

using namespace hnsproxy::policy;

TEST_CASE("IP addresses parse strictly and print canonically") {
  struct Case {
    const char* in;
    const char* out;  // nullptr: must be rejected
  };
  const Case cases[] = {
      {"10.96.0.10", "10.96.0.10"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"256.1.1.1", nullptr},
      {"10.96.0", nullptr},
      {"10.96.0.10.1", nullptr},
      {"010.1.1.1", nullptr},
      {"1.2.3.4 ", nullptr},
      {"", nullptr},
      {"::", "::"},
      {"::1", "::1"},
      {"fd00::4", "fd00::4"},
      {"FD00:0:0:0:0:0:0:4", "fd00::4"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"2001:db8::1::1", nullptr},
      {"::ffff:10.1.2.3", "::ffff:a01:203"},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
      {"1:2:3:4:5:6:7:8:9", nullptr},
      {"fe80::1%eth0", nullptr},
      {"12345::", nullptr},
      {"1:", nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto ip = IpAddress::parse(c.in);
    if (c.out) {
      REQUIRE(ip);
      CHECK(ip->str() == c.out);
      CHECK(IpAddress::parse(ip->str()) == ip);
    } else {
      CHECK_FALSE(ip);
    }
  }
}

TEST_CASE("CIDRs clear host bits and test membership per family") {
  auto c = Cidr::parse("10.244.1.77/24");
  REQUIRE(c);
  CHECK(c->str() == "10.244.1.0/24");
  CHECK(c->contains(*IpAddress::parse("10.244.1.200")));
  CHECK_FALSE(c->contains(*IpAddress::parse("10.244.2.1")));
  CHECK_FALSE(c->contains(*IpAddress::parse("::1")));
  auto v6 = Cidr::parse("fd00:10:244:1::/64");
  REQUIRE(v6);
  CHECK(v6->contains(*IpAddress::parse("fd00:10:244:1::13")));
  CHECK_FALSE(v6->contains(*IpAddress::parse("fd00:10:244:2::13")));
  CHECK_FALSE(Cidr::parse("10.0.0.0/33"));
  CHECK_FALSE(Cidr::parse("10.0.0.0"));
  CHECK_FALSE(Cidr::parse("10.0.0.0/08"));
  CHECK(Cidr::parse("0.0.0.0/0")->contains(*IpAddress::parse("1.2.3.4")));
}

TEST_CASE("capabilities follow the HNS version ranges") {
  struct Case {
    HnsVersion v;
    bool v2, dsr, affinity, dual, modify;
    std::uint32_t maxBackends;
  };
  const Case cases[] = {
      {{9, 1}, false, false, false, false, false, 64},
      {{9, 2}, true, false, false, false, false, 64},   // early WS2019: no DSR, 64 backends
      {{9, 5}, true, true, false, false, false, 1024},  // current WS2019
      {{10, 1}, true, false, false, false, false, 64},
      {{10, 2}, true, true, false, false, false, 64},
      {{11, 10}, true, true, false, true, false, 64},   // 2004
      {{13, 2}, true, true, true, true, false, 1024},   // WS2022
      {{15, 4}, true, true, true, true, false, 1024},   // WS2025 RTM: modify ignored by HNS, so off
      {{15, 5}, true, true, true, true, true, 1024},
      {{16, 0}, true, true, true, true, true, 1024},
  };
  for (const auto& c : cases) {
    INFO(c.v.str());
    auto caps = Capabilities::fromVersion(c.v);
    CHECK(caps.apiV2 == c.v2);
    CHECK(caps.dsr == c.dsr);
    CHECK(caps.sessionAffinity == c.affinity);
    CHECK(caps.dualStack == c.dual);
    CHECK(caps.modifyLoadBalancer == c.modify);
    CHECK(caps.maxBackends == c.maxBackends);
  }
}

TEST_CASE("decimal integers parse whole, within range, as Go's ParseInt reads them") {
  CHECK(parseDecimal("10256", 0, 65535) == 10256);
  CHECK(parseDecimal("+8", 0, 10) == 8);
  CHECK(parseDecimal("-3", -5, 5) == -3);
  CHECK(parseDecimal("0", 0, 0) == 0);
  for (const char* bad : {"", "+", "-", "+-1", "++1", " 1", "1 ", "1x", "0x10", "1.5", "65536", "-1", "99999999999999999999"})
    CHECK_FALSE(parseDecimal(bad, 0, 65535));
}

TEST_CASE("host:port splits once for every address form") {
  struct Case {
    const char* text;
    const char* host;
    int port;  // -1: none
  };
  for (const auto& c : std::vector<Case>{{"0.0.0.0:10256", "0.0.0.0", 10256},
                                         {"[::]:10249", "::", 10249},
                                         {"[fd00::1]", "fd00::1", -1},
                                         {"fd00::1", "fd00::1", -1},  // IPv6 alone: never split
                                         {":8080", "", 8080},
                                         {"api.example:6443", "api.example", 6443},
                                         {"10.96.0.10", "10.96.0.10", -1},
                                         {"10.0.0.1:0", "10.0.0.1", 0}}) {
    INFO(c.text);
    auto hp = HostPort::parse(c.text);
    REQUIRE(hp);
    CHECK(hp->host == c.host);
    CHECK(hp->port == (c.port < 0 ? std::nullopt : std::optional<std::uint16_t>(static_cast<std::uint16_t>(c.port))));
    CHECK(HostPort::parse(hp->str())->host == hp->host);  // str() reads back
  }
  CHECK(HostPort{"fd00::1", 53}.str() == "[fd00::1]:53");
  CHECK(HostPort{"10.0.0.1", 53}.str() == "10.0.0.1:53");
  for (const char* bad : {"[fd00::1", "[fd00::1]80", "[::]:", "1.2.3.4:", "1.2.3.4:99999", "1.2.3.4:http", "host:-1"})
    CHECK_FALSE(HostPort::parse(bad));
}

TEST_CASE("addresses order by family, then byte by byte, and are equal only when every byte is") {
  std::mt19937 rng(7);
  std::vector<IpAddress> all;
  for (int i = 0; i < 400; ++i) {
    std::array<std::uint8_t, 16> b{};
    for (auto& x : b) x = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() : (rng() % 3));  // many shared prefixes
    all.push_back(IpAddress::fromBytes(i % 3 == 0 ? IpFamily::V4 : IpFamily::V6, b.data()));
  }
  all.push_back(*IpAddress::parse("10.0.0.1"));
  all.push_back(*IpAddress::parse("10.0.0.2"));
  all.push_back(*IpAddress::parse("fd00::1"));
  for (const auto& a : all)
    for (const auto& b : all) {
      const auto& x = a.bytes();
      const auto& y = b.bytes();
      const int bytes = std::memcmp(x.data(), y.data(), 16);
      const auto expected = a.family() != b.family() ? a.family() <=> b.family() : bytes <=> 0;
      REQUIRE((a <=> b) == expected);
      REQUIRE((a == b) == (expected == 0));
    }
  CHECK(*IpAddress::parse("10.0.0.1") < *IpAddress::parse("10.0.0.2"));
  CHECK(*IpAddress::parse("10.0.0.255") < *IpAddress::parse("10.0.1.0"));
  CHECK(*IpAddress::parse("255.0.0.0") < *IpAddress::parse("::1"));  // IPv4 before IPv6
}
