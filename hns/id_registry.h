// The HNS IDs behind the policy's names: which load balancer holds each frontend, which endpoint
// carries each backend IP (the CNI's local ones and hnsproxy's own), and which endpoints on the
// network belong to someone else. Shared by the programmer's worker threads and the reconciler:
// every method takes the registry's lock, so any thread may call any of them.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "policy/desired.h"

namespace hnsproxy::hns {

struct IdMaps {
  std::map<policy::LbKey, std::string> loadBalancers;
  std::unordered_map<policy::IpAddress, std::string> managedEndpoints;  // remote, service-VIP, source-VIP
  std::unordered_map<policy::IpAddress, std::string> localEndpoints;    // the CNI's (and the root endpoint)
  std::set<std::string> foreignEndpoints;  // remote endpoints on the network that are not hnsproxy's
};

class IdRegistry {
 public:
  void reset(IdMaps maps);

  std::optional<std::string> loadBalancer(const policy::LbKey& key) const;
  void setLoadBalancer(const policy::LbKey& key, std::string id);
  void eraseLoadBalancer(const policy::LbKey& key);

  std::optional<std::string> managedEndpoint(const policy::IpAddress& ip) const;
  void setManagedEndpoint(const policy::IpAddress& ip, std::string id);
  void eraseManagedEndpoint(const policy::IpAddress& ip);

  // The endpoint a load balancer uses for a backend IP. A local endpoint wins over a remote one
  // with the same IP: the desired state never keeps a remote endpoint for an IP HNS holds
  // locally, and a stale remote duplicate must not capture traffic (kubernetes#138000).
  std::optional<std::string> backend(const policy::IpAddress& ip) const;

  // Local endpoints learned since the listing: those whose ID is no longer present go, `fresh`
  // ones (ID → addresses) are added. Remote endpoints among `freshForeign` are someone else's.
  void updateLocal(const std::set<std::string>& present,
                   const std::vector<std::pair<std::string, std::vector<policy::IpAddress>>>& freshLocal,
                   const std::vector<std::string>& freshForeign);
  // Every endpoint ID the registry accounts for (local, managed, foreign).
  std::unordered_set<std::string> knownEndpointIds() const;
  // Every endpoint ID with its addresses (to read load balancers back in policy terms).
  std::map<std::string, std::vector<policy::IpAddress>> endpointAddresses() const;

 private:
  mutable std::mutex mu_;
  IdMaps maps_;
};

}  // namespace hnsproxy::hns
