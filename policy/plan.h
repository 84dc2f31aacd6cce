// The diff engine: from what was applied and what is desired to the smallest ordered plan.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "policy/capabilities.h"
#include "policy/desired.h"

namespace hnsproxy::policy {

enum class OpKind : std::uint8_t { CreateEndpoint, DeleteEndpoint, CreateLoadBalancer, ModifyLoadBalancer, DeleteLoadBalancer };
std::string_view toString(OpKind k);

// Phases run in order; operations within one phase are independent of each other and may run
// in parallel. The order keeps every load balancer's backends present in HNS while it exists:
//   1 create new endpoints         2 delete load balancers (gone, or replaced)
//   3 modify load balancers        4 delete endpoints (no longer referenced, or replaced)
//   5 re-create replaced endpoints 6 create load balancers (new, or replaced)
// A replace is break-before-make: HNS refuses two load balancers on one frontend.
enum Phase : int {
  kPhaseCreateEndpoints = 1,
  kPhaseDeleteLoadBalancers = 2,
  kPhaseModifyLoadBalancers = 3,
  kPhaseDeleteEndpoints = 4,
  kPhaseRecreateEndpoints = 5,
  kPhaseCreateLoadBalancers = 6,
};

// 64 bytes, in this order (the endpoint, 43 bytes with no alignment, fills the space before the
// pointers): a cold start's plan holds 114,000 of them.
struct Op {
  OpKind kind = OpKind::CreateEndpoint;
  std::int8_t phase = 0;
  ManagedEndpoint endpoint;  // endpoint ops
  Boxed<LoadBalancer> lb;    // create/modify: the new object; delete: the applied one (empty for endpoints)
  // Why (for logs and --dry-run): a handful of texts over a plan of 100,000 operations, each held once.
  SharedName reason;
  std::string str() const;
  friend bool operator==(const Op&, const Op&) = default;
};

struct Plan {
  std::vector<Op> ops;  // sorted by phase
  bool empty() const { return ops.empty(); }
  std::size_t count(OpKind k) const;
  // Canonical text form, one operation a line, stable for golden tests and --dry-run.
  std::string text() const;
  // The same, a line at a time (--dry-run: a cold start's plan of 114,000 operations was a
  // 12 MB string, grown by doubling, at the run's peak).
  void writeText(std::ostream& out) const;
  void writeTextByService(std::ostream& out) const;
  // For operators (--dry-run -o by-service): a one-line summary (creates, modifies, deletes per
  // kind), then the operations grouped under the service they belong to, services sorted; endpoint
  // operations (shared between services) in a group of their own, last.
  std::string textByService() const;
};

// The keys a diff looks at. Empty optional-like flag `all` means everything in both states.
struct DiffScope {
  bool all = true;
  std::set<LbKey> loadBalancers;
  std::set<IpAddress> endpoints;
  // IPs whose HNS endpoint changed identity without the IP changing (a pod IP that became local,
  // or stopped being local): load balancers using them must be re-pointed even though their
  // backend IPs are the same.
  std::set<IpAddress> repointed;
  bool empty() const { return !all && loadBalancers.empty() && endpoints.empty(); }
};

// Modify is used when HNS supports it (caps.modifyLoadBalancer) and the service allows it
// (winProxyOptimization); otherwise a changed load balancer is replaced. A load balancer that
// references a replaced endpoint is always replaced (its backend IDs change).
Plan diff(const HnsState& applied, const HnsState& desired, const Capabilities& caps, const DiffScope& scope = {});

// The state after every operation of the plan succeeded, in order.
HnsState apply(HnsState state, const Plan& plan);
// Applies one operation to a state (the programmer calls this only for operations that succeeded).
void applyOp(HnsState& state, const Op& op);

}  // namespace hnsproxy::policy
