#include "hns/sim/sim_protocol.h"

namespace hnsproxy::hns {

using nlohmann::json;

namespace {

json errorJson(const Error& e) {
  return json{{"ok", false}, {"hresult", e.hresult}, {"code", toString(e.code)}, {"error", e.message}};
}

json badRequest(const std::string& why) {
  return errorJson(hcnError("hnssim", hcn::kEInvalidArg, "The parameter is incorrect. " + why));
}

std::optional<ObjectKind> kindOf(const json& req) {
  if (!req.contains("kind") || !req["kind"].is_string()) return std::nullopt;
  std::string k = req["kind"];
  if (k == "Network") return ObjectKind::Network;
  if (k == "Endpoint") return ObjectKind::Endpoint;
  if (k == "LoadBalancer") return ObjectKind::LoadBalancer;
  return std::nullopt;
}

std::string str(const json& req, const char* key) {
  return req.contains(key) && req[key].is_string() ? req[key].get<std::string>() : std::string();
}

template <typename R>
json reply(const R& r) {
  if (!r) return errorJson(r.error());
  return json{{"ok", true}, {"result", r.value()}};
}

json reply(const Status& s) { return s ? json{{"ok", true}} : errorJson(s.error()); }

}  // namespace

std::string handleSimRequest(SimulatedHns& sim, const std::string& line, bool* mutated) {
  if (mutated) *mutated = false;
  json req = json::parse(line, nullptr, false);
  if (req.is_discarded() || !req.is_object() || !req.contains("op") || !req["op"].is_string())
    return badRequest("Each request is one JSON object with an \"op\".").dump();
  try {
    const std::string op = req["op"];
    auto needKind = [&]() -> std::optional<ObjectKind> { return kindOf(req); };
    Handle handle = req.value("handle", Handle{0});
    if (op == "enumerate") {
      auto k = needKind();
      if (!k) return badRequest("\"kind\" must be Network, Endpoint or LoadBalancer.").dump();
      return reply(sim.enumerate(*k, str(req, "query"))).dump();
    }
    if (op == "open") {
      auto k = needKind();
      if (!k) return badRequest("\"kind\" must be Network, Endpoint or LoadBalancer.").dump();
      return reply(sim.open(*k, str(req, "id"))).dump();
    }
    if (op == "query") return reply(sim.query(handle, str(req, "query"))).dump();
    if (op == "create") {
      auto k = needKind();
      if (!k) return badRequest("\"kind\" must be Network, Endpoint or LoadBalancer.").dump();
      auto r = sim.create(*k, str(req, "id"), str(req, "settings"), req.value("network", Handle{0}));
      if (mutated) *mutated = r.ok();
      return reply(r).dump();
    }
    if (op == "modify") {
      auto r = sim.modify(handle, str(req, "settings"));
      if (mutated) *mutated = r.ok();
      return reply(r).dump();
    }
    if (op == "delete") {
      auto k = needKind();
      if (!k) return badRequest("\"kind\" must be Network, Endpoint or LoadBalancer.").dump();
      auto r = sim.remove(*k, str(req, "id"));
      if (mutated) *mutated = r.ok();
      return reply(r).dump();
    }
    if (op == "close") {
      sim.close(handle);
      return json{{"ok", true}}.dump();
    }
    if (op == "version") {
      auto v = sim.version();
      if (!v) return errorJson(v.error()).dump();
      return json{{"ok", true}, {"result", {{"Major", v->major}, {"Minor", v->minor}}}}.dump();
    }
    if (op == "adapters") return json{{"ok", true}, {"result", toJson(sim.hostAdapters().value())}}.dump();
    if (op == "snapshot") return json{{"ok", true}, {"result", toJson(sim.snapshot())}}.dump();
    if (op == "fail-nth") {
      sim.failNthCall(req.value("n", 1), req.value("hresult", hcn::kHcnManagerStopped));
      return json{{"ok", true}}.dump();
    }
    if (op == "fail-fraction") {
      sim.failFraction(str(req, "function"), req.value("fraction", 0.0), req.value("hresult", hcn::kHcnManagerStopped),
                       req.value("seed", 1u));
      return json{{"ok", true}}.dump();
    }
    if (op == "restart") {
      sim.restartService(req.value("failing_calls", 0));
      return json{{"ok", true}}.dump();
    }
    if (op == "latency") {
      if (req.contains("function"))
        sim.setFunctionLatency(str(req, "function"), std::chrono::microseconds(req.value("micros", 0)));
      else
        sim.setLatency(std::chrono::microseconds(req.value("micros", 0)),
                       std::chrono::microseconds(req.value("jitter_micros", 0)));
      return json{{"ok", true}}.dump();
    }
    if (op == "clear-faults") {
      sim.clearFaults();
      return json{{"ok", true}}.dump();
    }
    if (op == "reset-log") {
      sim.resetCallLog();
      return json{{"ok", true}}.dump();
    }
    if (op == "calls") return json{{"ok", true}, {"result", sim.callCounts()}}.dump();
    return badRequest("Unknown op \"" + op + "\".").dump();
  } catch (const std::exception& e) {
    return badRequest(std::string("Malformed request: ") + e.what()).dump();
  }
}

}  // namespace hnsproxy::hns
