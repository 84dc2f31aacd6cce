// HNS calls hnsproxy makes through the reconciler and the simulator, beside the upstream model.
// Usage: hns_calls_bench [services=1000] [endpoints-per-service=10] [nodes=100] [profile=ws2025-updated]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/upstream_model.h"
#include "hns/instrumented_api.h"
#include "hns/reconcile/reconciler.h"
#include "hns/sim/simulated_hns.h"
#include "hns/tools/cli.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using namespace hnsproxy::policy;
using nlohmann::json;

namespace {

IpAddress podIp(int node, int idx) {
  return IpAddress::v4(10, static_cast<std::uint8_t>(128 + node / 256), static_cast<std::uint8_t>(node % 256),
                       static_cast<std::uint8_t>(idx % 250 + 2));
}

struct SimNode {
  std::unique_ptr<SimulatedHns> sim;
  explicit SimNode(const Profile& p) : sim(std::make_unique<SimulatedHns>(p)) {
    auto net = sim->create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
    for (int i = 0; i < 250; ++i) {
      auto e = sim->create(ObjectKind::Endpoint, "",
                           json{{"IpConfigurations", {{{"IpAddress", podIp(0, i).str()}}}}}.dump(), *net);
      sim->close(*e);
    }
    sim->close(*net);
  }
};

ReconcilerOptions options() {
  ReconcilerOptions o;
  o.networkName = "cbr0";
  o.node.nodeName = "node-0";
  o.node.bindAddress = IpAddress::v4(192, 168, 0, 10);
  o.verifyPeriod = std::chrono::nanoseconds(0);
  return o;
}

void load(Engine& e, int nSvc, int nEp, int nNodes) {
  int pod = 0;
  for (int s = 0; s < nSvc; ++s) {
    Service svc;
    svc.id = {"ns", "svc" + std::to_string(s)};
    svc.type = s % 10 == 0 ? ServiceType::NodePort : ServiceType::ClusterIP;
    svc.clusterIPs = {IpAddress::v4(10, 96, static_cast<std::uint8_t>(s / 250), static_cast<std::uint8_t>(s % 250 + 1))};
    svc.ports = {ServicePort{"http", Protocol::TCP, 80, std::uint16_t{8080},
                             static_cast<std::uint16_t>(s % 10 == 0 ? 30000 + s / 10 : 0)}};
    e.upsertService(svc);
    EndpointSlice es;
    es.ns = "ns";
    es.name = svc.id.name + "-x";
    es.serviceName = svc.id.name;
    es.ports = {EndpointPort{std::string("http"), Protocol::TCP, 8080}};
    for (int k = 0; k < nEp; ++k, ++pod) {
      int node = pod % nNodes;
      Endpoint ep;
      ep.address = podIp(node, pod / nNodes);
      ep.nodeName = "node-" + std::to_string(node);
      es.endpoints.push_back(ep);
    }
    e.upsertSlice(es);
  }
}

bool start(Reconciler& r, int nSvc, int nEp, int nNodes) {
  if (!r.start([] { return true; }, {})) return false;
  load(r.engine(), nSvc, nEp, nNodes);
  return r.sync().ok();
}

void row(const char* what, std::uint64_t ours, std::uint64_t oursMut, const bench::UpstreamCalls& up) {
  std::printf("  %-44s %10llu %10llu   %12llu %10llu\n", what, static_cast<unsigned long long>(ours),
              static_cast<unsigned long long>(oursMut), static_cast<unsigned long long>(up.total),
              static_cast<unsigned long long>(up.mutating));
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description cli("options (also positional, in this order)");
  cli.add_options()  //
      ("services", po::value<int>()->default_value(1000), "services")
      ("endpoints", po::value<int>()->default_value(10), "endpoints per service")
      ("nodes", po::value<int>()->default_value(100), "nodes the endpoints are spread over")
      ("profile", po::value<std::string>()->default_value("ws2025-updated"), "the simulated Windows build");
  auto line = parseProgramCommandLine("hns_calls_bench [SERVICES [ENDPOINTS [NODES [PROFILE]]]]", cli, argc, argv, 0,
                                      {"services", "endpoints", "nodes", "profile"});
  if (!line.parsed) return line.exitCode;
  const int nSvc = line.parsed->get<int>("services"), nEp = line.parsed->get<int>("endpoints"),
            nNodes = line.parsed->get<int>("nodes");
  const std::string profileName = line.parsed->get<std::string>("profile");
  auto profile = profileByName(profileName);
  if (!profile) {
    std::fprintf(stderr, "unknown profile %s\n", profileName.c_str());
    return 2;
  }
  SimNode node(*profile);
  InstrumentedApi api(*node.sim);
  Reconciler first(api, options());
  if (!start(first, nSvc, nEp, nNodes)) return 1;
  const auto& d = first.engine().desired();
  std::uint64_t L = d.loadBalancers.size(), R = d.endpoints.size(), E = 250 + R;
  std::printf("HNS calls: %d services x %d endpoints over %d nodes, profile %s (HNS %s): %llu LBs, %llu remote "
              "endpoints\n",
              nSvc, nEp, nNodes, profile->name.c_str(), profile->version.str().c_str(),
              static_cast<unsigned long long>(L), static_cast<unsigned long long>(R));
  std::printf("  %-44s %10s %10s   %12s %10s\n", "", "hnsproxy", "mutating", "upstream*", "mutating*");
  row("(a) cold start", api.totalCalls(), api.mutatingCalls(), bench::coldStart(250, R, L));

  api.reset();
  first.sync();
  row("(c) periodic sync, nothing changed", api.totalCalls(), api.mutatingCalls(), bench::idleSync(E, L));

  api.reset();
  EndpointSlice es;
  es.ns = "ns";
  es.name = "svc0-x";
  es.serviceName = "svc0";
  es.ports = {EndpointPort{std::string("http"), Protocol::TCP, 8080}};
  Endpoint extra;
  extra.address = IpAddress::v4(10, 250, 0, 1);
  extra.nodeName = "node-1";
  es.endpoints = {extra};
  for (int k = 0; k < nEp; ++k) {
    Endpoint ep;
    ep.address = podIp(k % nNodes, k / nNodes);
    ep.nodeName = "node-" + std::to_string(k % nNodes);
    es.endpoints.push_back(ep);
  }
  first.engine().upsertSlice(es);
  auto rep = first.sync();
  std::uint64_t affected = rep.plan.count(OpKind::ModifyLoadBalancer) + rep.plan.count(OpKind::CreateLoadBalancer);
  row("(b) one endpoint added to one service", api.totalCalls(), api.mutatingCalls(),
      bench::endpointAdded(E, L, affected, first.engine().context().caps.modifyLoadBalancer));

  // Back to the original slice, so that the restart below sees the cluster HNS was programmed for.
  es.endpoints.erase(es.endpoints.begin());
  first.engine().upsertSlice(es);
  first.sync();

  api.reset();
  Reconciler second(api, options());
  if (!start(second, nSvc, nEp, nNodes)) return 1;
  row("(d) restart over the unchanged cluster", api.totalCalls(), api.mutatingCalls(), bench::restart(E, L));
  std::printf("  * upstream: a model (bench/upstream_model.h; HCN-level calls), not a measurement.\n");
  std::printf("  hnsproxy's restart total is its one start-up listing (1 + 3 per object); steady state lists nothing.\n");
  return 0;
}
