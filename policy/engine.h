// The incremental engine: keeps the cluster's Services and EndpointSlices, the per-service rule
// results and the desired HNS state; recomputes only services that changed (or everything when
// the node context changes) and reports which load balancers and endpoints may differ, so the
// diff looks only at those. Not thread-safe: one owner (the sync loop).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/desired.h"
#include "policy/node_pool.h"
#include "policy/model.h"
#include "policy/plan.h"
#include "policy/rules.h"

namespace hnsproxy::policy {

struct Changes {
  DiffScope scope;                 // what to diff; scope.all after a context change
  std::vector<Warning> warnings;   // from the services recomputed, and frontend conflicts
  std::size_t servicesRecomputed = 0;
};

// Which local endpoints the rules left out because HNS has not shown them yet, over every
// service (not only those just recomputed). The reconciler asks HNS again when this changes.
using MissingLocalEndpoints = std::set<IpAddress>;

class Engine {
 public:
  explicit Engine(NodeContext ctx = {});

  // A different context (node, network, capabilities, config, local endpoints) marks every
  // service for recomputation. Returns whether it differed.
  bool setContext(NodeContext ctx);
  // The local (CNI) endpoints HNS holds changed: only services whose endpoints include a changed
  // IP are recomputed. setContext delegates here when nothing else changed.
  void setLocalEndpoints(std::vector<IpAddress> sortedUniqueIps);
  const NodeContext& context() const { return ctx_; }
  // Endpoints on this node that the rules skipped because HNS holds no local endpoint for them.
  MissingLocalEndpoints missingLocalEndpoints() const;

  // Object events. An object equal to the stored one changes nothing.
  void upsertService(Service svc);
  void deleteService(const ServiceName& id);
  void upsertSlice(EndpointSlice slice);
  void deleteSlice(const std::string& ns, const std::string& name);

  bool pending() const { return contextDirty_ || !dirty_.empty(); }
  // Recomputes the services marked since the last call; O(changed services), not O(cluster).
  Changes recompute();

  const HnsState& desired() const { return desired_; }
  const ServiceResult* result(const ServiceName& id) const;
  std::size_t serviceCount() const { return services_.size(); }
  std::size_t sliceCount() const { return sliceOwner_.size(); }
  std::uint64_t backendsTruncated() const { return truncated_; }  // current total over services
  std::size_t conflictingFrontends() const { return conflicts_; }
  bool hasService(const ServiceName& id) const { return services_.count(id) > 0; }
  // Services with a Local traffic policy and no local endpoint (for the no_local_endpoints metric).
  std::size_t noLocalEndpointsInternal() const { return noLocalInternal_; }
  std::size_t noLocalEndpointsExternal() const { return noLocalExternal_; }
  // Health-check node ports of LoadBalancer services with externalTrafficPolicy Local.
  const std::map<std::uint16_t, ServiceName>& healthCheckNodePorts() const { return hcPorts_; }
  // Unique ready, local endpoint IPs of a service (the health-check port's localEndpoints).
  int localReadyEndpoints(const ServiceName& id) const;
  const Service* service(const ServiceName& id) const;

 private:
  struct Claim {
    Timestamp created;
    ServiceName service;
    auto operator<=>(const Claim&) const = default;
  };
  // What the engine knows of one IP, in one entry (two maps of it cost 16 MB at 100,000
  // endpoints): how the desired load balancers and the node's own endpoints use it, and which
  // services' slices list it and how often (for a local-endpoint flip). The services are almost
  // always one, held inline. The names point at slices_' keys: an entry there outlives its uses.
  struct IpUse {
    int remote = 0, serviceVip = 0, sourceVip = 0;
    int firstCount = 0;
    const ServiceName* first = nullptr;
    std::unique_ptr<std::vector<std::pair<const ServiceName*, int>>> more;
    bool referenced() const { return remote > 0 || serviceVip > 0 || sourceVip > 0; }
    bool listed() const { return first != nullptr || (more && !more->empty()); }
    void list(const ServiceName* svc, int delta);
    template <typename F>
    void forEachService(F f) const {
      if (first) f(*first);
      if (more)
        for (const auto& [s, n] : *more) f(*s);
    }
  };

  void markAllDirty();
  void indexSlice(const EndpointSlice& s, const ServiceName& owner, int delta);
  bool isManagedBackend(const IpAddress& ip) const;
  void ref(const IpAddress& ip, EndpointKind kind, int delta, std::vector<IpAddress>& touched);
  void refBackends(const LoadBalancer& lb, int delta, std::vector<IpAddress>& touched);
  void settleEndpoint(const IpAddress& ip);

  NodeContext ctx_;
  std::map<ServiceName, Service> services_;
  std::map<ServiceName, std::map<std::string, EndpointSlice>> slices_;
  std::map<std::pair<std::string, std::string>, ServiceName> sliceOwner_;
  std::map<ServiceName, ServiceResult> results_;
  std::map<ServiceName, Claim> claimOf_;
  // Every service's claim on each frontend, oldest first; the load balancers live in results_.
  std::map<LbKey, std::map<Claim, const LoadBalancer*>> claims_;
  PooledHashMap<IpAddress, IpUse> ips_;
  HnsState desired_;
  std::set<ServiceName> dirty_;
  std::set<IpAddress> touchedIps_;  // endpoints to re-settle at the next recompute
  std::set<IpAddress> repointed_;   // local-endpoint flips since the last recompute
  bool contextDirty_ = true;
  std::uint64_t truncated_ = 0;
  std::size_t noLocalInternal_ = 0, noLocalExternal_ = 0;
  std::map<std::uint16_t, ServiceName> hcPorts_;
  std::map<IpAddress, int> missingLocal_;  // over every result: how many services skip each IP
  void indexHealthCheck(const Service& s, bool add);
  void countMissing(const ServiceResult& r, int delta);
  std::size_t conflicts_ = 0;
};

// The desired state computed from scratch, independently of the Engine's incremental bookkeeping:
// the oracle of the engine's property test.
HnsState computeAll(const std::vector<Service>& services, const std::vector<EndpointSlice>& slices,
                    const NodeContext& ctx);

}  // namespace hnsproxy::policy
