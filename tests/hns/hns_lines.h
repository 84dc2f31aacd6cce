// What HNS holds, read straight from HCN documents — not through the translation or the adoption
// under test — as lines a test can compare or keep as a golden file; and the same lines for a
// desired state, with HCN's numbers written out here (hcsshim hcn/hcnloadbalancer.go).
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "hns/hcn_json.h"
#include "policy/desired.h"

namespace hnsproxy::hns::test {

// What HNS holds, read straight from the simulator's documents — not through the translation or
// the adoption under test — one line per load balancer:
//   "<vip|node>:<port>/<protocol number> -> <internal> flags=<n> portFlags=<n> dist=<n> src=<ip> [backend IPs]"
// and one per endpoint that is not a CNI pod's: "<ip> remote|local mac=<mac> pa=<ip>".
inline std::set<std::string> hnsHolds(const HnsSnapshot& s) {
  std::map<std::string, std::vector<std::string>> ipsOf;
  std::set<std::string> out;
  for (const auto& e : s.endpoints) {
    if (e.ipConfigurations.empty()) continue;
    for (const auto& c : e.ipConfigurations) ipsOf[normalizeGuid(e.id)].push_back(c.ipAddress);
    std::string pa;
    for (const auto& p : e.policies)
      if (p.type == "ProviderAddress") pa = p.settings.value("ProviderAddress", "");
    if (e.isRemote() || e.name.empty())  // the CNI's pods have names; ours do not
      out.insert(fmt::format("{} {} mac={} pa={}", e.ipConfigurations[0].ipAddress, e.isRemote() ? "remote" : "local",
                             policy::MacText(e.macAddress).str(), pa));  // a MAC in either of HNS's forms
  }
  for (const auto& lb : s.loadBalancers) {
    std::vector<std::string> backends;
    const bool v6 = (lb.flags & 2) != 0;  // an IPv6 load balancer uses each endpoint's IPv6 address
    for (const auto& id : lb.endpoints) {
      std::string pick = "?" + id;
      for (const auto& a : ipsOf[normalizeGuid(id)])
        if ((a.find(':') != std::string::npos) == v6) {
          pick = a;
          break;
        }
      backends.push_back(pick);
    }
    std::sort(backends.begin(), backends.end());
    const auto& pm = lb.portMappings.at(0);
    out.insert(fmt::format("{}:{}/{} -> {} flags={} portFlags={} dist={} src={} [{}]",
                           lb.frontendVips.empty() ? "node" : lb.frontendVips[0], pm.externalPort, pm.protocol,
                           pm.internalPort, lb.flags, pm.flags, pm.distributionType, lb.sourceVip,
                           fmt::join(backends, ",")));
  }
  return out;
}

// The same lines for a desired state, with HCN's numbers written out here (hcsshim hcn/hcnloadbalancer.go)
// rather than taken from the translation under test.
inline std::set<std::string> expectedHolds(const policy::HnsState& d) {
  std::set<std::string> out;
  for (const auto& [ip, e] : d.endpoints)
    out.insert(fmt::format("{} {} mac={} pa={}", ip.str(), e.isRemote() ? "remote" : "local", e.mac.str(),
                           e.providerAddress ? e.providerAddress->str() : ""));
  for (const auto& [key, lb] : d.loadBalancers) {
    std::vector<std::string> backends;
    for (const auto& b : lb.backends) backends.push_back(b.str());
    std::sort(backends.begin(), backends.end());
    unsigned proto = key.protocol == policy::Protocol::TCP ? 6 : key.protocol == policy::Protocol::UDP ? 17 : 132;
    unsigned flags = (lb.dsr ? 1 : 0) | (key.family == policy::IpFamily::V6 ? 2 : 0);
    unsigned portFlags = (lb.reachableFromHost ? 2 : 0) | (lb.preserveDestination ? 4 | 8 : 0) |
                         (lb.reachableFromOutside ? 16 : 0);
    unsigned dist = lb.distribution == policy::Distribution::SourceIP ? 2
                    : lb.distribution == policy::Distribution::SourceIPProtocol ? 1 : 0;
    out.insert(fmt::format("{}:{}/{} -> {} flags={} portFlags={} dist={} src={} [{}]",
                           key.vip ? key.vip->str() : "node", key.port, proto, lb.internalPort, flags, portFlags, dist,
                           lb.sourceVip ? lb.sourceVip->str() : "", fmt::join(backends, ",")));
  }
  return out;
}

}  // namespace hnsproxy::hns::test
