// Runs the real kube-proxy binary on the example cluster.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace {

struct Run {
  int status;
  std::string out;
};

Run runProxy(const std::string& args) {
  std::string cmd = std::string(HNSPROXY_BINARY_DIR) + "/proxy/kube-proxy " + args + " 2>&1";
  Run r{0, {}};
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

const std::string kExample = std::string(HNSPROXY_SOURCE_DIR) + "/examples/cluster";
const std::string kBase = "--dry-run --manifest-dir " + kExample + " --hns-sim-state " + kExample +
                          "/hns/win-node-1.json --hostname-override win-node-1 --network-name cbr0";

}  // namespace

TEST_CASE("dry run on the example cluster: the exact load balancers the rules give") {
  auto r = runProxy(kBase + " --forward-healthcheck-vip -o json");
  INFO(r.out);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["errors"].empty());
  CHECK(j["loadBalancers"].size() == 17);
  CHECK(j["endpoints"].size() == 9);
  CHECK(j["plan"].size() == 26);
  auto has = [&](const std::string& line) {
    for (const auto& l : j["loadBalancers"])
      if (l.get<std::string>() == line) return true;
    return false;
  };
  CHECK(has("IPv4/TCP/20.50.60.71:8080 -> 8080 flags=DSR portFlags=UseMux|PreserveDIP|VipExternalIP dist=None "
            "src=10.0.0.4 backends=[10.244.1.11] (Ingress shop/gateway:http)"));
  CHECK(has("IPv4/TCP/node:31443 -> 8443 flags=DSR portFlags=LocalRoutedVIP|VipExternalIP dist=None src=10.0.0.4 "
            "backends=[10.244.1.12] (NodePort shop/store:https)"));
  CHECK(has("IPv6/TCP/[fd00:96::50]:9090 -> 9090 flags=IPv6 portFlags=None dist=None src=fd00::4 "
            "backends=[fd00:10:244:1::13] (ClusterIP shop/api:grpc)"));
  CHECK(has("IPv4/TCP/10.96.10.60:80 -> 8080 flags=None portFlags=None dist=None src=10.0.0.4 "
            "backends=[10.244.3.20] (ClusterIP shop/catalog:http)"));
  CHECK(has("IPv4/TCP/20.50.60.70:32100 -> 32100 flags=None portFlags=None dist=None src=10.0.0.4 "
            "backends=[10.244.1.2] (HealthCheck shop/store:healthcheck)"));
  bool conflict = false;
  for (const auto& w : j["warnings"])
    if (w["reason"] == "ConflictingFrontend" && w["service"] == "shop/api-canary") conflict = true;
  CHECK(conflict);
}

TEST_CASE("dry run: bad flag values are errors that name the flag and the value") {
  struct Case {
    const char* args;
    const char* expect;
  };
  const Case cases[] = {
      {" --source-vip 10.0.0.300", "--source-vip"},
      {" --healthz-bind-address 0.0.0.0:99999", "--healthz-bind-address"},
      {" --node-ip nope", "--node-ip"},
      {" -o yaml", "--output"},
      {" --no-such-flag", "no-such-flag"},
  };
  for (const auto& c : cases) {
    auto r = runProxy(kBase + c.args);
    INFO(r.out);
    CHECK(r.status == 2);
    CHECK(r.out.find(c.expect) != std::string::npos);
  }
  auto net = runProxy("--dry-run --manifest-dir " + kExample + " --hns-sim-state " + kExample +
                      "/hns/win-node-1.json --network-name vxlan9");
  CHECK(net.status == 1);
  CHECK(net.out.find("HNS network 'vxlan9' not found") != std::string::npos);
}
