// The wire protocol between hnssim and its clients: one JSON object per line each way.
//   request  {"op":"create","kind":"LoadBalancer","id":"…","settings":"…","network":0}
//   response {"ok":true,"result":…} | {"ok":false,"hresult":2147942487,"code":"InvalidArgument","error":"…"}
// Ops: enumerate, open, query, create, modify, delete, close, version (the Api), and for tests
// and benchmarks: snapshot, fail-nth, fail-fraction, restart, latency, clear-faults, reset-log,
// calls.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "hns/sim/simulated_hns.h"

namespace hnsproxy::hns {

// Handles one request line. Never throws: bad requests get HNS-style errors. `mutated` is set
// when the request changed HNS state (the daemon then persists it).
std::string handleSimRequest(SimulatedHns& sim, const std::string& line, bool* mutated = nullptr);

}  // namespace hnsproxy::hns
