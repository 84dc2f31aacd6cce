#include "proxy/dry_run.h"

#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hnsproxy::proxy {

using namespace hnsproxy::policy;

DryRunResult computeDryRun(const DryRunOptions& opts) {
  DryRunResult r;
  std::vector<Service> services;
  std::vector<EndpointSlice> slices;
  std::optional<Node> node;
  auto files = watch::manifestFiles(opts.manifestDir);
  if (files.empty()) r.errors.push_back("--manifest-dir " + opts.manifestDir + ": no .yaml, .yml or .json files");
  for (const auto& f : files) {
    auto mf = watch::loadManifestFile(f);
    for (const auto& e : mf.errors) r.errors.push_back(e.str());
    for (auto& o : mf.objects) {
      if (auto* s = std::get_if<Service>(&o.object)) services.push_back(std::move(*s));
      else if (auto* es = std::get_if<EndpointSlice>(&o.object)) slices.push_back(std::move(*es));
      else if (auto* n = std::get_if<Node>(&o.object); n && n->name == opts.node.nodeName) node = std::move(*n);
    }
  }
  auto snap = hns::loadSnapshot(opts.hnsStatePath);
  if (!snap) {
    r.errors.push_back(snap.error().message);
    r.exitCode = 1;
    return r;
  }
  hns::NodeContextOptions nopts = opts.node;
  if (node) {
    if (nopts.nodeIPs.empty()) {
      nopts.nodeIPs = node->internalIPs;
      nopts.nodeIPs.insert(nopts.nodeIPs.end(), node->externalIPs.begin(), node->externalIPs.end());
    }
    if (nopts.zone.empty()) nopts.zone = node->zone;
  }
  auto ctx = hns::nodeContextFrom(*snap, nopts);
  if (!ctx) {
    r.errors.push_back(ctx.error().message);
    r.exitCode = 1;
    return r;
  }
  for (const auto& w : ctx->warnings) r.errors.push_back(w);
  r.context = ctx->context;
  Engine engine(ctx->context);
  for (auto& s : services) engine.upsertService(std::move(s));
  for (auto& s : slices) engine.upsertSlice(std::move(s));
  auto changes = engine.recompute();
  r.warnings = std::move(changes.warnings);
  r.desired = engine.desired();
  r.plan = diff(HnsState{}, r.desired, r.context.caps);
  if (!r.errors.empty()) r.exitCode = 2;
  return r;
}

void printDryRun(const DryRunResult& r, bool json, std::ostream& out) {
  if (json) {
    nlohmann::json j;
    j["errors"] = r.errors;
    j["warnings"] = nlohmann::json::array();
    for (const auto& w : r.warnings)
      j["warnings"].push_back({{"service", w.service.str()}, {"reason", w.reason}, {"message", w.message}});
    j["loadBalancers"] = nlohmann::json::array();
    for (const auto& [key, lb] : r.desired.loadBalancers) j["loadBalancers"].push_back(lb.str());
    j["endpoints"] = nlohmann::json::array();
    for (const auto& [ip, ep] : r.desired.endpoints) j["endpoints"].push_back(ep.str());
    j["plan"] = nlohmann::json::array();
    for (const auto& op : r.plan.ops) j["plan"].push_back(op.str());
    out << j.dump(2) << "\n";
    return;
  }
  const auto& c = r.context;
  out << fmt::format("node {}  network {} ({}, {})  HNS {}: DSR={} dual-stack={} session-affinity={} modify={} "
                     "max-backends={}\n",
                     c.nodeName, c.network.name,
                     c.network.type == NetworkType::Overlay ? "Overlay"
                     : c.network.type == NetworkType::L2Bridge ? "L2Bridge"
                                                                : "other",
                     c.network.id, c.caps.version.str(), c.caps.dsr, c.caps.dualStack, c.caps.sessionAffinity,
                     c.caps.modifyLoadBalancer, c.caps.maxBackends);
  for (const auto& e : r.errors) out << "error: " << e << "\n";
  for (const auto& w : r.warnings)
    out << "warning: " << (w.service.name.empty() ? "" : w.service.str() + ": ") << w.reason << ": " << w.message
        << "\n";
  out << fmt::format("\n{} load balancer(s):\n", r.desired.loadBalancers.size());
  for (const auto& [key, lb] : r.desired.loadBalancers) out << "  " << lb.str() << "\n";
  out << fmt::format("\n{} managed endpoint(s):\n", r.desired.endpoints.size());
  for (const auto& [ip, ep] : r.desired.endpoints) out << "  " << ep.str() << "\n";
  out << "\n" << r.plan.text();
}

}  // namespace hnsproxy::proxy
