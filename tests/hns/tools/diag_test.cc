#include "catch.h"

#include <filesystem>
#include <sstream>
#include <unistd.h>

#include "hns/tools/diag.h"

using namespace hnsproxy::hns;
using nlohmann::json;

namespace {

struct Run {
  int code;
  std::string out, err;
};

Run diag(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = runHnsdiag(args, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("hnsdiag prepares a node like a CNI would, then lists, shows, traces and deletes") {
  auto dir = std::filesystem::temp_directory_path() / ("hnsproxy-diag-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string state = (dir / "node.json").string();
  std::filesystem::remove(state);

  auto net = diag({"--state", state, "create", "network", "--name", "cbr0", "--type", "L2Bridge", "--prefix",
                   "10.244.1.0/24", "--gateway", "10.244.1.1"});
  REQUIRE(net.code == 0);
  auto ep = diag({"--state", state, "create", "endpoint", "--network", "cbr0", "--ip", "10.244.1.10", "--name", "pod1"});
  REQUIRE(ep.code == 0);
  std::string epId = ep.out.substr(0, ep.out.find('\n'));
  CHECK(isGuid(epId));
  auto remote = diag({"--state", state, "create", "endpoint", "--network", "cbr0", "--ip", "10.244.2.5", "--remote"});
  REQUIRE(remote.code == 0);

  auto list = diag({"--state", state, "-o", "json", "list", "endpoints"});
  REQUIRE(list.code == 0);
  auto eps = json::parse(list.out);
  REQUIRE(eps.size() == 2);
  auto table = diag({"--state", state, "list", "endpoints"});
  CHECK(table.out.find("pod1") != std::string::npos);
  CHECK(table.out.find("remote") != std::string::npos);
  auto show = diag({"--state", state, "show", epId});
  REQUIRE(show.code == 0);
  CHECK(json::parse(show.out)["Name"] == "pod1");

  // Add a load balancer by editing the state file as a test would, then trace through it.
  auto snap = loadSnapshot(state).value();
  HcnLoadBalancer lb;
  lb.id = "11111111-0000-4000-8000-000000000001";
  lb.endpoints = {epId};
  lb.frontendVips = {"10.96.0.10"};
  lb.sourceVip = "10.0.0.4";
  lb.portMappings = {{6, 8080, 80, 0, 0}};
  snap.loadBalancers.push_back(lb);
  REQUIRE(saveSnapshot(snap, state));
  auto trace = diag({"--state", state, "trace", "--src", "10.244.1.10:5000", "--dst", "10.96.0.10:80", "--from", epId});
  INFO(trace.out << trace.err);
  CHECK(trace.code == 0);
  CHECK(trace.out.find("delivered 10.0.0.4:5000 -> 10.244.1.10:8080") != std::string::npos);
  auto lbs = diag({"--state", state, "list", "loadbalancers"});
  CHECK(lbs.out.find("80->8080") != std::string::npos);
  CHECK(lbs.out.find("10.244.1.10") != std::string::npos);

  auto del = diag({"--state", state, "delete", "loadbalancers"});
  CHECK(del.code == 0);
  CHECK(loadSnapshot(state)->loadBalancers.empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("hnsdiag: bad input is an error that names it") {
  struct Case {
    std::vector<std::string> args;
    int code;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {{}, 2, "usage"},
      {{"--state", "/nonexistent/x.json", "-o", "yaml", "list", "networks"}, 2, "--output"},
      {{"--state", "a", "--socket", "b", "list", "networks"}, 2, "not both"},
      {{"--state", "/nonexistent/x.json", "list", "widgets"}, 2, "widgets"},
      {{"--state", "/nonexistent/x.json", "trace", "--src", "10.0.0.1", "--dst", "10.96.0.10"}, 2, "--dst"},
      {{"--state", "/nonexistent/x.json", "create", "endpoint", "--network", "x", "--ip", "10.1"}, 2, "--ip"},
      {{"--state", "/nonexistent/x.json", "frobnicate"}, 2, "unknown command"},
      {{"--socket", "/nonexistent/sock", "list", "networks"}, 1, "unreachable"},
      {{"--bogus"}, 2, "bogus"},
  };
  for (const auto& c : cases) {
    auto r = diag(c.args);
    INFO(r.err);
    CHECK(r.code == c.code);
    CHECK(r.err.find(c.expect) != std::string::npos);
  }
}
