#include "hns/reconcile/host_view.h"

#include "hns/translate.h"

namespace hnsproxy::hns {

HostRead hostViewFrom(const Listing& l) {
  HostRead r;
  auto net = networkInfoFrom(l.network);
  r.view.network = std::move(net.info);
  r.problems = std::move(net.problems);
  for (const auto& e : l.endpoints)
    if (!e.isRemote() && (e.network.empty() || normalizeGuid(e.network) == normalizeGuid(l.network.id)))
      r.view.localEndpoints.push_back(hostEndpointFrom(e));
  r.view.caps = policy::Capabilities::fromVersion(l.version);
  r.view.adapters = l.adapters;
  return r;
}

}  // namespace hnsproxy::hns
