// hnssim's wire protocol: request lines (JSON) against a simulated node holding the example
// cluster's network and endpoints. Every line gets an HNS-style answer; the simulator's state stays
// consistent (a snapshot always serialises and reads back).
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "hns/hcn_json.h"
#include "hns/sim/sim_protocol.h"
#include "hns/sim/simulated_hns.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hnsproxy::hns;
  static const HnsSnapshot node = [] {
    const char* dir = std::getenv("HNSPROXY_SOURCE_DIR");
    auto s = loadSnapshot(std::string(dir ? dir : ".") + "/examples/cluster/hns/win-node-1.json");
    if (!s) std::abort();  // run from the source tree or set HNSPROXY_SOURCE_DIR
    return *s;
  }();
  SimulatedHns sim(node);
  std::string in = hnsproxy::fuzz::text(data, size);
  std::size_t start = 0;
  for (std::size_t i = 0; i <= in.size(); ++i) {
    if (i != in.size() && in[i] != '\n') continue;
    std::string line = in.substr(start, i - start);
    start = i + 1;
    // The benchmark-only "latency" op makes every later call sleep: not a parser path, skipped.
    auto req = nlohmann::json::parse(line, nullptr, false);
    if (req.is_object() && req.value("op", nlohmann::json()).is_string() && req["op"] == "latency") continue;
    std::string answer = handleSimRequest(sim, line);
    auto j = nlohmann::json::parse(answer, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ok")) std::abort();
  }
  auto back = snapshotFromJson(toJson(sim.snapshot()));
  if (!back) std::abort();
  return 0;
}
