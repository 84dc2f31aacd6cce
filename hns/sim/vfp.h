// A model of how VFP forwards one packet through HNS load balancers: which load balancer
// matches, which backend it picks, and the packet after rewrite. It answers "where does this
// packet go" for tests, hnsdiag and operators. Each behaviour is as Microsoft's HNS/VFP
// documentation and field reports describe it; where the real behaviour is not documented the
// model's choice is named as such.
//
// Modelled:
//  - Match: protocol and external port of PortMappings[0]; the destination is one
//    of FrontendVIPs, or any node address when FrontendVIPs is empty (NodePort).
//  - Reachability: from the host, only load balancers with LocalRoutedVIP answer
//    (Service IPs are not reachable from the node otherwise); from outside the node, only those
//    with VipExternalIP or an empty frontend (a cluster IP is not routable from outside).
//  - Distribution: None hashes the 5-tuple, SourceIPProtocol the client IP and protocol,
//    SourceIP the client IP. The real hash is undocumented; the model uses a stable FNV hash.
//  - Rewrite: the destination becomes backend:InternalPort, except with
//    PreserveDIP (the VIP stays, the port becomes InternalPort). Non-DSR load balancers rewrite
//    the source to SourceVIP, or to the VIP when SourceVIP is empty (the fallback PR #137455
//    reported), or to the node IP for NodePort; DSR keeps the client's source.
//  - Hairpin: under DSR, a pod that reaches itself through a VIP times out unless its
//    endpoint carries the loopback-DSR OutBoundNAT policy with Destinations=[its own IP].
//  - Remote backends: forwarded to the remote node, encapsulated to the endpoint's
//    provider address on overlay.
//  - ICMP: never rewritten; the packet is routed unchanged.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hns/hcn_json.h"
#include "policy/ip.h"

namespace hnsproxy::hns {

enum class Ingress : std::uint8_t { LocalEndpoint, Host, External };

struct Packet {
  policy::IpAddress srcIp;
  std::uint16_t srcPort = 0;
  policy::IpAddress dstIp;
  std::uint16_t dstPort = 0;
  std::uint32_t protocol = 6;  // HNS protocol number
  Ingress ingress = Ingress::External;
  std::string fromEndpointId;  // with Ingress::LocalEndpoint
};

struct Trace {
  bool delivered = false;               // false: dropped or times out
  std::optional<std::string> loadBalancerId;
  std::optional<std::string> backendEndpointId;
  Packet out;                           // the packet after rewrite
  bool remote = false;                  // the backend is on another node
  std::optional<policy::IpAddress> providerAddress;  // overlay encapsulation target
  std::vector<std::string> notes;       // each step, with its reference
  std::string str() const;
};

// nodeIPs: the host's addresses (what an empty FrontendVIPs stands for).
Trace tracePacket(const HnsSnapshot& hns, const std::vector<policy::IpAddress>& nodeIPs, const Packet& p);

}  // namespace hnsproxy::hns
