// kube-proxy (hnsproxy). This build computes and prints what it would program (--dry-run);
// the HNS programmer and the daemon loop are wired in as they land (see README, "Status").
#include <cstdlib>
#include <iostream>

#include <boost/program_options.hpp>

#include "proxy/dry_run.h"

namespace po = boost::program_options;
using namespace hnsproxy;

int main(int argc, char** argv) {
  po::options_description desc("kube-proxy (hnsproxy) options");
  std::string healthz;
  std::string sourceVip;
  std::string output;
  std::vector<std::string> nodeIPs;
  proxy::DryRunOptions o;
  bool enableDsr = false, forwardHc = false;
  desc.add_options()
      ("help,h", "print this help")
      ("manifest-dir", po::value(&o.manifestDir), "read Service, EndpointSlice and Node objects from this directory")
      ("hns-sim-state", po::value(&o.hnsStatePath), "HNS simulator state file (JSON)")
      ("hostname-override", po::value(&o.node.nodeName), "this node's name")
      ("network-name", po::value(&o.node.networkName), "HNS network to program (default: $KUBE_NETWORK)")
      ("source-vip", po::value(&sourceVip), "overlay source VIP")
      ("enable-dsr", po::value(&enableDsr)->implicit_value(true), "DSR for ClusterIP load balancers")
      ("forward-healthcheck-vip", po::value(&forwardHc)->implicit_value(true), "health-check LB per ingress IP")
      ("root-hnsendpoint-name", po::value(&o.node.rootEndpointName)->default_value("cbr0"), "host endpoint name")
      ("healthz-bind-address", po::value(&healthz)->default_value("0.0.0.0:10256"), "healthz address")
      ("node-ip", po::value(&nodeIPs), "node IP (repeatable; default: from the Node object)")
      ("dry-run", "compute and print the plan; change nothing")
      ("output,o", po::value(&output)->default_value("text"), "text or json");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "kube-proxy: " << e.what() << "\n\n" << desc << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (!vm.count("dry-run") || o.manifestDir.empty() || o.hnsStatePath.empty()) {
    std::cerr << "kube-proxy: this build supports --dry-run with --manifest-dir and --hns-sim-state; the HNS "
                 "programmer is not wired in yet\n";
    return 2;
  }
  if (o.node.networkName.empty())
    if (const char* env = std::getenv("KUBE_NETWORK")) o.node.networkName = env;
  if (o.node.networkName.empty()) {
    std::cerr << "kube-proxy: Environment variable KUBE_NETWORK and network-flag not initialized\n";
    return 2;
  }
  if (!sourceVip.empty()) {
    o.node.config.sourceVip = policy::IpAddress::parse(sourceVip);
    if (!o.node.config.sourceVip) {
      std::cerr << "kube-proxy: invalid value \"" << sourceVip << "\" for --source-vip: not an IP address\n";
      return 2;
    }
  }
  for (const auto& s : nodeIPs) {
    auto ip = policy::IpAddress::parse(s);
    if (!ip) {
      std::cerr << "kube-proxy: invalid value \"" << s << "\" for --node-ip: not an IP address\n";
      return 2;
    }
    o.node.nodeIPs.push_back(*ip);
  }
  {
    auto colon = healthz.rfind(':');
    std::string host = colon == std::string::npos ? "" : healthz.substr(0, colon);
    std::string port = colon == std::string::npos ? healthz : healthz.substr(colon + 1);
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
      std::cerr << "kube-proxy: invalid value \"" << healthz << "\" for --healthz-bind-address: want host:port\n";
      return 2;
    }
    o.node.config.healthzPort = static_cast<std::uint16_t>(p);
    o.node.config.healthzOnAllAddresses = host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::";
  }
  o.node.config.enableDsr = enableDsr;
  o.node.config.forwardHealthCheckVip = forwardHc;
  if (output != "text" && output != "json") {
    std::cerr << "kube-proxy: invalid value \"" << output << "\" for --output: want text or json\n";
    return 2;
  }
  auto r = proxy::computeDryRun(o);
  proxy::printDryRun(r, output == "json", std::cout);
  return r.exitCode;
}
