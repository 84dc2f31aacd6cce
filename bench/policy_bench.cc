// Policy-only benchmark: the CPU cost of the rules and the diff, with no HNS and no API server.
// Usage: policy_bench [services=10000] [endpoints-per-service=10] [nodes=100] [changes=200]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "policy/engine.h"
#include "hns/tools/cli.h"

using namespace hnsproxy::policy;
using Clock = std::chrono::steady_clock;

namespace hns = hnsproxy::hns;
namespace {

long rssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

IpAddress podIp(int node, int idx) {
  return IpAddress::v4(10, static_cast<std::uint8_t>(128 + node / 256), static_cast<std::uint8_t>(node % 256),
                       static_cast<std::uint8_t>(idx % 250 + 2));
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  hns::po::options_description options("options (also positional, in this order)");
  options.add_options()  //
      ("services", hns::po::value<int>()->default_value(10000), "services")
      ("endpoints", hns::po::value<int>()->default_value(10), "endpoints per service")
      ("nodes", hns::po::value<int>()->default_value(100), "nodes the endpoints are spread over")
      ("changes", hns::po::value<int>()->default_value(200), "endpoint changes measured");
  auto line = hns::parseProgramCommandLine("policy_bench [SERVICES [ENDPOINTS [NODES [CHANGES]]]]", options, argc, argv,
                                           0, {"services", "endpoints", "nodes", "changes"});
  if (!line.parsed) return line.exitCode;
  const int nSvc = line.parsed->get<int>("services"), nEp = line.parsed->get<int>("endpoints"),
            nNodes = line.parsed->get<int>("nodes"), nChanges = line.parsed->get<int>("changes");

  NodeContext ctx;
  ctx.nodeName = "node-0";
  ctx.nodeIPs = {IpAddress::v4(192, 168, 0, 10)};
  ctx.caps = Capabilities::fromVersion({15, 6});
  ctx.network = {"cbr0", "NET", NetworkType::L2Bridge, {}, {}, std::nullopt};
  for (int i = 0; i < 250; ++i) ctx.localEndpointIPs.push_back(podIp(0, i));
  std::sort(ctx.localEndpointIPs.begin(), ctx.localEndpointIPs.end());

  std::vector<Service> services;
  std::vector<EndpointSlice> slices;
  int podCounter = 0;
  for (int s = 0; s < nSvc; ++s) {
    Service svc;
    svc.id = {"ns" + std::to_string(s % 50), "svc" + std::to_string(s)};
    svc.type = s % 10 == 0 ? ServiceType::NodePort : ServiceType::ClusterIP;
    svc.clusterIPs = {IpAddress::v4(10, 96, static_cast<std::uint8_t>(s / 250), static_cast<std::uint8_t>(s % 250 + 1))};
    svc.ports = {ServicePort{"http", Protocol::TCP, 80, std::uint16_t{8080},
                             static_cast<std::uint16_t>(s % 10 == 0 ? 30000 + s / 10 % 2000 : 0)}};
    services.push_back(svc);
    EndpointSlice es;
    es.ns = svc.id.ns;
    es.name = svc.id.name + "-abcde";
    es.serviceName = svc.id.name;
    es.ports = {EndpointPort{std::string("http"), Protocol::TCP, 8080}};
    for (int e = 0; e < nEp; ++e, ++podCounter) {
      int node = podCounter % nNodes;
      Endpoint ep;
      ep.address = podIp(node, podCounter / nNodes);
      ep.nodeName = "node-" + std::to_string(node);
      es.endpoints.push_back(ep);
    }
    slices.push_back(es);
  }

  Engine engine(ctx);
  auto t0 = Clock::now();
  for (const auto& s : services) engine.upsertService(s);
  for (const auto& s : slices) engine.upsertSlice(s);
  auto changes = engine.recompute();
  auto t1 = Clock::now();
  HnsState applied;
  Plan plan = diff(applied, engine.desired(), ctx.caps, changes.scope);
  applied = apply(std::move(applied), plan);
  auto t2 = Clock::now();

  // One endpoint added to (then removed from) one service, repeatedly.
  std::vector<double> perChange;
  std::size_t opsTotal = 0;
  for (int c = 0; c < nChanges; ++c) {
    EndpointSlice es = slices[static_cast<std::size_t>(c * 7919 % nSvc)];
    if (c % 2 == 0) {
      Endpoint ep;
      ep.address = IpAddress::v4(10, 250, static_cast<std::uint8_t>(c / 250), static_cast<std::uint8_t>(c % 250 + 1));
      ep.nodeName = "node-1";
      es.endpoints.push_back(ep);
    }
    auto a = Clock::now();
    engine.upsertSlice(es);
    auto ch = engine.recompute();
    Plan p = diff(applied, engine.desired(), ctx.caps, ch.scope);
    for (const auto& op : p.ops) applyOp(applied, op);
    perChange.push_back(ms(Clock::now() - a));
    opsTotal += p.ops.size();
  }
  std::sort(perChange.begin(), perChange.end());
  auto pct = [&](double q) { return perChange.empty() ? 0.0 : perChange[static_cast<std::size_t>(q * (perChange.size() - 1))]; };

  std::printf("policy benchmark: %d services x %d endpoints over %d nodes\n", nSvc, nEp, nNodes);
  std::printf("  full computation (rules, all services) : %8.1f ms\n", ms(t1 - t0));
  std::printf("  diff against empty + apply to record   : %8.1f ms  (%zu operations)\n", ms(t2 - t1), plan.ops.size());
  std::printf("  desired: %zu load balancers, %zu managed endpoints\n", engine.desired().loadBalancers.size(),
              engine.desired().endpoints.size());
  std::printf("  one endpoint change (recompute + diff) : median %.3f ms, p99 %.3f ms over %d changes (%zu ops)\n",
              pct(0.5), pct(0.99), nChanges, opsTotal);
  std::printf("  peak RSS                               : %ld MB\n", rssKb() / 1024);
  return 0;
}
