// Adoption: what a listing of HNS holds of hnsproxy's, in policy terms. Pure — a function of the
// listing, the node context and the desired state — so start-up, verification and cleanup all read
// HNS the same way, and tests can check it with hand-written listings.
//
// "Ours" is what hnsproxy (or upstream kube-proxy, whose objects it takes over) could have made on
// this network: remote endpoints (Flags=RemoteEndpoint), the overlay source-VIP endpoint, and load
// balancers whose every backend is an endpoint of this network. Other networks' objects are never
// touched.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "hns/reconcile/id_registry.h"
#include "hns/reconcile/reader.h"
#include "policy/desired.h"

namespace hnsproxy::hns {

struct Adoption {
  policy::HnsState applied;  // what HNS holds of ours
  IdMaps ids;
  // Extra load balancers on a frontend that already has one of ours: deleted before the next plan.
  std::vector<std::string> duplicateLoadBalancers;
  // Extra remote endpoints for an IP that already has one of ours (a create that landed late, a
  // second writer): the load balancers that use them are adopted as needing a rewrite
  // (foreignSettings), and they are deleted after the plan that rewrote them.
  std::vector<std::string> duplicateEndpoints;
  std::size_t adoptedLoadBalancers = 0;
  std::size_t adoptedEndpoints = 0;
};

// Provenance (service, port, kind) of adopted load balancers comes from `desired` where the
// frontend matches; endpoint kinds likewise (a service-VIP endpoint looks like a remote one).
Adoption adopt(const Listing& listing, const policy::NodeContext& ctx, const policy::HnsState& desired);

// What adopt() takes from `desired`: load balancers' provenance and managed endpoints' kinds. adopt()
// reads the listing, then annotates; start-up adopts with no desired state (the listing's documents
// go as soon as it is read) and annotates once the desired state is known, which gives the same.
void annotate(Adoption& a, const policy::HnsState& desired);

// How many objects of `before` HNS no longer holds as such in `after` (missing or changed).
std::size_t driftBetween(const policy::HnsState& before, const policy::HnsState& after);

}  // namespace hnsproxy::hns
