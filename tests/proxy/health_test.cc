#include "catch.h"

#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_client.h"
#include "proxy/health.h"

using namespace hnsproxy;
using namespace hnsproxy::proxy;
using namespace std::chrono_literals;

TEST_CASE("proxy health follows upstream's rule: a queued change older than the timeout is unhealthy") {
  ProxyHealth h(60s);
  SysTime t0 = std::chrono::system_clock::now();
  CHECK(h.state(t0).healthy);  // starting up, nothing queued
  h.queuedUpdate(t0);
  CHECK(h.state(t0 + 59s).healthy);
  CHECK_FALSE(h.state(t0 + 61s).healthy);
  h.queuedUpdate(t0 + 30s);  // the oldest pending change counts
  CHECK_FALSE(h.state(t0 + 61s).healthy);
  h.updated(t0 + 62s);
  CHECK(h.state(t0 + 200s).healthy);
  h.setNodeEligible(false);
  CHECK_FALSE(h.state(t0 + 200s).nodeEligible);
}

TEST_CASE("healthz and livez bodies, codes and headers") {
  ProxyHealth h(60s);
  Metrics m;
  SysTime now = std::chrono::system_clock::now();
  auto ok = healthzHandler(h, m, "/healthz", now);
  CHECK(ok.status == 200);
  CHECK(ok.contentType == "application/json");
  CHECK(ok.headers.at(0) == std::make_pair(std::string("X-Content-Type-Options"), std::string("nosniff")));
  std::regex body(R"re(\{"lastUpdated": "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} \+0000 UTC m=\+\d+\.\d{9}","currentTime": "[^"]+", "nodeEligible": true\})re");
  CHECK(std::regex_match(ok.body, body));
  h.setNodeEligible(false);
  auto notEligible = healthzHandler(h, m, "/healthz", now);
  CHECK(notEligible.status == 503);
  CHECK(notEligible.body.find("\"nodeEligible\": false") != std::string::npos);
  auto live = healthzHandler(h, m, "/livez", now);
  CHECK(live.status == 200);  // livez ignores the node
  CHECK(live.body.find("nodeEligible") == std::string::npos);
  CHECK(healthzHandler(h, m, "/other", now).status == 404);
  std::string metrics = m.render();
  CHECK(metrics.find("kubeproxy_proxy_healthz_total{code=\"200\"} 1") != std::string::npos);
  CHECK(metrics.find("kubeproxy_proxy_healthz_total{code=\"503\"} 1") != std::string::npos);
  CHECK(metrics.find("kubeproxy_proxy_livez_total{code=\"200\"} 1") != std::string::npos);
}

TEST_CASE("HTTP servers on loopback: health-check node ports answer per service, and close when gone") {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread t([&] { io.run(); });
  ProxyHealth h(60s);
  ServiceHealthServers servers(io, h, "127.0.0.1");
  unsigned short p1 = test::portOutsideEphemeralRange();
  unsigned short p2 = test::portOutsideEphemeralRange(p1);
  auto onIo = [&](auto f) {
    std::promise<void> done;
    boost::asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  };
  std::map<std::uint16_t, std::string> failures;
  onIo([&] {
    failures = servers.sync({{p1, {"shop", "store"}}, {p2, {"shop", "gw"}}}, {{{"shop", "store"}, 2}});
  });
  CHECK(failures.empty());
  auto a = test::httpGet(p1, "/anything");
  CHECK(a.status == 200);
  auto j = nlohmann::json::parse(a.body);
  CHECK(j["service"]["namespace"] == "shop");
  CHECK(j["service"]["name"] == "store");
  CHECK(j["localEndpoints"] == 2);
  CHECK(j["serviceProxyHealthy"] == true);
  CHECK(a.body.find("\n\t\"service\": {\n\t\t\"namespace\"") != std::string::npos);  // upstream's layout
  auto b = test::httpGet(p2, "/");
  CHECK(b.status == 503);  // no local endpoints
  onIo([&] { servers.sync({{p2, {"shop", "gw"}}}, {{{"shop", "gw"}, 1}}); });
  CHECK(test::httpGet(p1, "/").status == 0);  // closed
  CHECK(test::httpGet(p2, "/").status == 200);
  // A port something else holds is reported, not fatal.
  boost::asio::io_context other;
  boost::asio::ip::tcp::acceptor squatter(other, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto taken = squatter.local_endpoint().port();
  onIo([&] { failures = servers.sync({{taken, {"shop", "x"}}}, {}); });
  CHECK(failures.count(taken) == 1);
  onIo([&] { servers.sync({}, {}); });
  guard.reset();
  io.stop();
  t.join();
}
