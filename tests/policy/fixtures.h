// Builders for policy tests: a node context and objects with readable defaults.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "policy/engine.h"
#include "policy/rules.h"

namespace hnsproxy::policy::test {

inline IpAddress ip(const std::string& s) {
  auto r = IpAddress::parse(s);
  if (!r) throw std::runtime_error("bad test IP " + s);
  return *r;
}

inline std::vector<IpAddress> ips(std::initializer_list<const char*> l) {
  std::vector<IpAddress> out;
  for (auto s : l) out.push_back(ip(s));
  return out;
}

// win-node-1, node IP 10.0.0.4, L2Bridge, HNS 15.6, local pod endpoints 10.244.1.10-19.
inline NodeContext l2bridge(HnsVersion v = {15, 6}) {
  NodeContext c;
  c.nodeName = "win-node-1";
  c.zone = "zone-a";
  c.nodeIPs = {ip("10.0.0.4")};
  c.hostMac = "00-15-5D-00-00-04";
  c.network = {"cbr0", "NET-1", NetworkType::L2Bridge, {}, {}, std::nullopt};
  c.caps = Capabilities::fromVersion(v);
  for (int i = 10; i < 20; ++i) c.localEndpointIPs.push_back(ip("10.244.1." + std::to_string(i)));
  std::sort(c.localEndpointIPs.begin(), c.localEndpointIPs.end());
  return c;
}

// Overlay: remote subnets 10.244.2.0/24 on 10.0.0.5 and 10.244.3.0/24 on 10.0.0.6.
inline NodeContext overlay(HnsVersion v = {15, 6}) {
  NodeContext c = l2bridge(v);
  c.network.name = "vxlan0";
  c.network.type = NetworkType::Overlay;
  c.network.remoteSubnets = {{*Cidr::parse("10.244.2.0/24"), ip("10.0.0.5"), 4096},
                             {*Cidr::parse("10.244.3.0/24"), ip("10.0.0.6"), 4096}};
  c.config.sourceVip = ip("10.244.1.250");
  return c;
}

// Midnight UTC of day `d` of January 2026: creation times that order services.
inline Timestamp jan2026(int d) {
  return Timestamp(std::chrono::sys_days(std::chrono::year(2026) / std::chrono::January / std::chrono::day(static_cast<unsigned>(d))));
}

inline Service svc(const std::string& name, const std::string& clusterIP, std::vector<ServicePort> ports = {}) {
  Service s;
  s.id = {"default", name};
  s.created = jan2026(1);
  s.clusterIPs = {ip(clusterIP)};
  if (ports.empty()) ports = {ServicePort{"http", Protocol::TCP, 80, std::uint16_t{8080}, 0}};
  s.ports = std::move(ports);
  return s;
}

inline Endpoint ep(const std::string& addr, const std::string& node, bool ready = true, bool serving = true,
                   bool terminating = false) {
  Endpoint e;
  e.address = ip(addr);
  e.nodeName = node;
  e.ready = ready;
  e.serving = serving;
  e.terminating = terminating;
  return e;
}

inline EndpointSlice slice(const std::string& service, const std::string& name, std::vector<Endpoint> eps,
                           std::vector<EndpointPort> ports = {}, AddressType at = AddressType::IPv4) {
  EndpointSlice s;
  s.ns = "default";
  s.name = name;
  s.serviceName = service;
  s.addressType = at;
  if (ports.empty()) ports = {EndpointPort{std::string("http"), Protocol::TCP, 8080}};
  s.ports = std::move(ports);
  s.endpoints = std::move(eps);
  return s;
}

inline ServiceResult run(const Service& s, const std::vector<EndpointSlice>& slices, const NodeContext& c) {
  std::vector<const EndpointSlice*> ptrs;
  for (const auto& x : slices) ptrs.push_back(&x);
  return computeService(s, ptrs, c);
}

inline const LoadBalancer* find(const ServiceResult& r, LbKind kind, IpFamily fam = IpFamily::V4) {
  for (const auto& lb : r.loadBalancers)
    if (lb.kind == kind && lb.key.family == fam) return &lb;
  return nullptr;
}

inline bool hasWarning(const ServiceResult& r, WarningReason reason) {
  return std::any_of(r.warnings.begin(), r.warnings.end(), [&](const Warning& w) { return w.reason == reason; });
}

// A load balancer's settings as the canonical text names them (as HNS and hnsdiag do):
// "None", "DSR", "IPv6", "DSR|IPv6"; port flags "LocalRoutedVIP|VipExternalIP", …
inline std::string segment(const LoadBalancer& lb, const std::string& key) {
  std::string s = lb.str();
  auto at = s.find(" " + key + "=");
  if (at == std::string::npos) return "?";
  at += key.size() + 2;
  return s.substr(at, s.find(' ', at) - at);
}
inline std::string flags(const LoadBalancer& lb) { return segment(lb, "flags"); }
inline std::string portFlags(const LoadBalancer& lb) { return segment(lb, "portFlags"); }

}  // namespace hnsproxy::policy::test
