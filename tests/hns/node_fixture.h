// A Windows node for the hns tests: a simulated HNS holding what the CNI leaves (the L2Bridge
// network "cbr0", ten local pod endpoints), a cluster to program onto it, a clock and a sleep the
// test drives, and an independent reading of what HNS holds.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hns/hns_lines.h"
#include "hns/reconcile/reconciler.h"
#include "hns/sim/simulated_hns.h"
#include "policy/fixtures.h"

namespace hnsproxy::hns::test {

using nlohmann::json;
using policy::test::ep;
using policy::test::ip;
using policy::test::ips;
using policy::test::slice;
using policy::test::svc;

// Pod endpoints 10.244.1.10–19 on "cbr0", created as the CNI does.
inline std::unique_ptr<SimulatedHns> makeNode(const Profile& profile) {
  auto sim = std::make_unique<SimulatedHns>(profile);
  auto net = sim->create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
  if (!net) throw std::runtime_error(net.error().str());
  for (int i = 10; i < 20; ++i) {
    auto e = sim->create(ObjectKind::Endpoint, "",
                         json{{"Name", "pod" + std::to_string(i)},
                              {"IpConfigurations", {{{"IpAddress", "10.244.1." + std::to_string(i)}}}}}
                             .dump(),
                         *net);
    if (!e) throw std::runtime_error(e.error().str());
    sim->close(*e);
  }
  sim->close(*net);
  sim->resetCallLog();
  return sim;
}
inline std::unique_ptr<SimulatedHns> makeNode(const std::string& profile) { return makeNode(*profileByName(profile)); }

// n services, each with a local endpoint and two remote ones; every third a NodePort.
inline void fill(policy::Engine& e, int n) {
  using namespace policy;
  for (int i = 0; i < n; ++i) {
    auto s = svc("s" + std::to_string(i), "10.96.0." + std::to_string(i + 1),
                 {{"http", Protocol::TCP, 80, std::uint16_t{8080}, static_cast<std::uint16_t>(i % 3 == 0 ? 30000 + i : 0)}});
    if (i % 3 == 0) s.type = ServiceType::NodePort;
    e.upsertService(s);
    e.upsertSlice(slice(s.id.name, s.id.name + "-a",
                        {ep("10.244.1." + std::to_string(10 + i % 10), "win-node-1"),
                         ep("10.244.2." + std::to_string(1 + i), "n2"), ep("10.244.3." + std::to_string(1 + i % 5), "n3")}));
  }
}

// Time the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  Clock fn() {
    return [this] { return now; };
  }
};

// Sleeps recorded, not slept.
struct Sleeps {
  std::vector<std::chrono::milliseconds> taken;
  std::function<void(std::chrono::milliseconds)> hook;
  Sleep fn() {
    return [this](std::chrono::milliseconds d) {
      taken.push_back(d);
      if (hook) hook(d);
    };
  }
};

inline ReconcilerOptions nodeOptions(int parallelism = 1) {
  ReconcilerOptions o;
  o.networkName = "cbr0";
  o.node.nodeName = "win-node-1";
  o.node.bindAddress = ip("10.0.0.4");
  o.programmer.parallelism = parallelism;
  o.programmer.backoffInitial = std::chrono::milliseconds(10);
  o.programmer.backoffMax = std::chrono::milliseconds(100);
  o.programmer.jitterSeed = 7;
  return o;
}

}  // namespace hnsproxy::hns::test
