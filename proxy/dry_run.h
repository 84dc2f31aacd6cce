// One computation over a manifest directory and an HNS state file: the desired HNS objects and
// the plan that would program them. Shared by `kube-proxy --dry-run` and the tests.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "hns/node_context.h"
#include "policy/engine.h"
#include "watch/manifest.h"

namespace hnsproxy::proxy {

struct DryRunOptions {
  std::string manifestDir;
  std::string hnsStatePath;
  hns::NodeContextOptions node;  // nodeIPs/zone filled from the Node object when empty
  bool json = false;
};

struct DryRunResult {
  int exitCode = 0;
  std::vector<std::string> errors;    // manifest and state errors
  std::vector<policy::Warning> warnings;
  policy::HnsState desired;
  policy::Plan plan;
  policy::NodeContext context;
};

DryRunResult computeDryRun(const DryRunOptions& opts);
void printDryRun(const DryRunResult& r, bool json, std::ostream& out);

}  // namespace hnsproxy::proxy
