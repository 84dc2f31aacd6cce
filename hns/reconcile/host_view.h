// The host view (policy/host.h) from a listing of HNS: the network, the non-remote endpoints on it,
// and the capabilities of the HNS version — the only place the version is turned into
// capabilities.
#pragma once

#include <string>
#include <vector>

#include "hns/reconcile/reader.h"
#include "policy/host.h"

namespace hnsproxy::hns {

struct HostRead {
  policy::HostView view;
  std::vector<std::string> problems;  // network policies that were ignored, and why
};

HostRead hostViewFrom(const Listing& listing);

}  // namespace hnsproxy::hns
