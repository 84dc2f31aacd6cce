// hnsdiag: inspect and prepare HNS state — a simulator state file, a running hnssim, or (on
// Windows) the real HNS — the way Windows' own hnsdiag is used on nodes:
//   hnsdiag [--state FILE | --socket PATH] [-o table|json] list networks|endpoints|loadbalancers
//   hnsdiag ... show ID
//   hnsdiag ... trace --src IP[:PORT] --dst IP:PORT [--proto tcp|udp|icmp] [--from host|external|ENDPOINT-ID] [--node-ip IP]
//   hnsdiag ... create network --name NAME --type L2Bridge|Overlay [--prefix CIDR --gateway IP]
//   hnsdiag ... create endpoint --network NAME --ip IP [--name NAME] [--mac MAC] [--remote]
//   hnsdiag ... delete loadbalancers|endpoints|ID
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "hns/api.h"
#include "hns/hcn_json.h"

namespace hnsproxy::hns {

// Every network, endpoint and load balancer, read through the Api (enumerate + query each).
Result<HnsSnapshot> readAll(Api& api);

// Runs hnsdiag; returns the exit code (0 ok, 1 failure, 2 usage).
int runHnsdiag(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace hnsproxy::hns
