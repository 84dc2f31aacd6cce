#include "hns/sim/simulated_hns.h"

#include <algorithm>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "policy/desired.h"
#include "policy/ip.h"

namespace hnsproxy::hns {

using nlohmann::json;

const std::vector<Profile>& profiles() {
  static const std::vector<Profile> kProfiles = {
      {"ws2019-early", {9, 2}, 64, false, ModifyBehaviour::NotImplemented},   // first V2 builds, 64 destinations
      {"ws2019", {9, 5}, 1024, true, ModifyBehaviour::NotImplemented},        // current 17763 servicing
      {"ws2004", {11, 10}, 64, true, ModifyBehaviour::NotImplemented},        // 19041
      {"ws2022", {13, 2}, 1024, true, ModifyBehaviour::NotImplemented},       // 20348
      {"ws2025", {15, 4}, 1024, true, ModifyBehaviour::IgnoresBackends},      // 26100 RTM
      {"ws2025-updated", {15, 6}, 1024, true, ModifyBehaviour::Works},        // modify fixed
  };
  return kProfiles;
}

std::optional<Profile> profileByName(const std::string& name) {
  for (const auto& p : profiles())
    if (p.name == name) return p;
  return std::nullopt;
}

// What a Windows build does, by HNS version, written from field reports (hcsshim
// hcnsupport.go's version ranges, kubernetes/kubernetes#98680 for the backend limit) rather than from the proxy's capability table, so the simulator checks the proxy
// instead of mirroring it: DSR arrived with 9.3 (WS2019 May 2020 update) and 10.2; the 1,024
// backend limit with 9.5 and 12.0; in-place modify reports success on 15.4 without changing the
// backends and works from 15.5.
Profile profileForVersion(policy::HnsVersion v) {
  using V = policy::HnsVersion;
  Profile p;
  p.name = "version-" + v.str();
  p.version = v;
  const bool ws2019Line = v.major == 9;
  p.dsr = ws2019Line ? v >= V{9, 3} : v >= V{10, 2};
  p.maxBackends = (ws2019Line && v >= V{9, 5}) || v >= V{12, 0} ? 1024 : 64;
  p.modify = v >= V{16, 0} || (v.major == 15 && v.minor >= 5) ? ModifyBehaviour::Works
             : v == V{15, 4}                                   ? ModifyBehaviour::IgnoresBackends
                                                               : ModifyBehaviour::NotImplemented;
  return p;
}

SimulatedHns::SimulatedHns(Profile profile) : profile_(std::move(profile)) { idRng_.seed(std::random_device{}()); }  // NOLINT(cert-msc32-c,cert-msc51-cpp): seeded from std::random_device in the body

SimulatedHns::SimulatedHns(const HnsSnapshot& s, std::optional<Profile> profile)  // NOLINT(cert-msc32-c,cert-msc51-cpp): seeded from std::random_device in the body
    : profile_(profile ? *profile : profileForVersion(s.version)) {
  idRng_.seed((static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}());
  adapters_ = s.adapters;
  for (const auto& n : s.networks) networks_[n.id] = n;
  for (const auto& e : s.endpoints) endpoints_[e.id] = e;
  for (const auto& lb : s.loadBalancers) {
    loadBalancers_[lb.id] = lb;
    indexLoadBalancer(lb, +1);
  }
}

namespace {

const char* fn(const char* verb, ObjectKind k) {
  static const char* names[3][6] = {
      {"HcnEnumerateNetworks", "HcnOpenNetwork", "HcnQueryNetworkProperties", "HcnCreateNetwork", "HcnModifyNetwork",
       "HcnDeleteNetwork"},
      {"HcnEnumerateEndpoints", "HcnOpenEndpoint", "HcnQueryEndpointProperties", "HcnCreateEndpoint",
       "HcnModifyEndpoint", "HcnDeleteEndpoint"},
      {"HcnEnumerateLoadBalancers", "HcnOpenLoadBalancer", "HcnQueryLoadBalancerProperties", "HcnCreateLoadBalancer",
       "HcnModifyLoadBalancer", "HcnDeleteLoadBalancer"}};
  static const char* verbs[6] = {"enumerate", "open", "query", "create", "modify", "delete"};
  int v = 0;
  while (v < 6 && std::string(verbs[v]) != verb) ++v;
  return names[static_cast<int>(k)][v];
}

const char* kNotFoundText = "Element not found. ";

// The parsed Filter of a HostComputeQuery: {"Filter":"{\"ID\":\"…\"}"}.
Result<json> filterOf(const std::string& query) {
  if (query.empty()) return json::object();
  json q = json::parse(query, nullptr, false);
  if (q.is_discarded() || !q.is_object()) return hcnError("query", hcn::kHcnInvalidJson, "The JSON document is invalid. ");
  if (!q.contains("Filter") || q["Filter"].is_null()) return json::object();
  if (!q["Filter"].is_string()) return hcnError("query", hcn::kHcnInvalidJson, "Filter must be a JSON string. ");
  std::string f = q["Filter"].get<std::string>();
  if (f.empty()) return json::object();
  json filter = json::parse(f, nullptr, false);
  if (filter.is_discarded() || !filter.is_object())
    return hcnError("query", hcn::kHcnInvalidJson, "The Filter is not a JSON object. ");
  return filter;
}

bool matches(const json& filter, const json& doc) {
  for (const auto& [key, want] : filter.items()) {
    std::string k = key == "VirtualNetwork" ? "HostComputeNetwork" : key;
    if (!doc.contains(k)) return false;
    const json& have = doc[k];
    if (have.is_string() && want.is_string()) {
      std::string a = have.get<std::string>(), b = want.get<std::string>();
      bool guidish = k == "ID" || k == "HostComputeNetwork";
      if (guidish ? normalizeGuid(a) != normalizeGuid(b) : a != b) return false;
    } else if (have != want) {
      return false;
    }
  }
  return true;
}

// The frontend a load balancer occupies: HNS refuses a second one on it.
std::string frontendKey(const HcnLoadBalancer& lb) {
  std::vector<std::string> vips = lb.frontendVips;
  std::sort(vips.begin(), vips.end());
  std::string k = fmt::format("{}|", lb.flags & hcn::kLbFlagIPv6);
  for (const auto& v : vips) k += v + ",";
  for (const auto& pm : lb.portMappings) k += fmt::format("|{}/{}", pm.protocol, pm.externalPort);
  return k;
}

}  // namespace

void SimulatedHns::indexLoadBalancer(const HcnLoadBalancer& lb, int delta) {
  std::string fk = frontendKey(lb);
  if (delta > 0) frontends_[fk] = lb.id;
  else if (auto it = frontends_.find(fk); it != frontends_.end() && it->second == lb.id) frontends_.erase(it);
  std::set<std::string> unique(lb.endpoints.begin(), lb.endpoints.end());
  for (const auto& e : unique) {
    endpointRefs_[e] += delta;
    if (endpointRefs_[e] <= 0) endpointRefs_.erase(e);
  }
}

std::optional<Error> SimulatedHns::injected(const char* function) {
  ++calls_[function];
  ++callNumber_;
  if (unavailableCalls_ > 0) {
    --unavailableCalls_;
    return hcnError(function, hcn::kRpcServerUnavailable, "The RPC server is unavailable. ");
  }
  auto it = failAt_.find(callNumber_);
  if (it != failAt_.end()) {
    std::uint32_t hr = it->second;
    failAt_.erase(it);
    return hcnError(function, hr, "Injected failure. ");
  }
  if (auto ff = failFraction_.find(function); ff != failFraction_.end()) {
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < ff->second.first)
      return hcnError(function, ff->second.second, "Injected failure. ");
  }
  return std::nullopt;
}

void SimulatedHns::failNthCall(int n, std::uint32_t hr) {
  std::lock_guard<std::mutex> lock(mu_);
  failAt_[callNumber_ + n] = hr;
}

void SimulatedHns::setLatency(std::chrono::microseconds fixed, std::chrono::microseconds jitter) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_ = fixed;
  jitter_ = jitter;
  latencyChanged_.notify_all();
}

void SimulatedHns::failFraction(const std::string& function, double fraction, std::uint32_t hr, std::uint32_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  failFraction_[function] = {fraction, hr};
  rng_.seed(seed);
}

void SimulatedHns::setFunctionLatency(const std::string& function, std::chrono::microseconds fixed) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fixed.count() > 0) functionLatency_[function] = fixed;
  else functionLatency_.erase(function);
  latencyChanged_.notify_all();
}

std::unique_lock<std::mutex> SimulatedHns::oneAtATime() {
  if (!serial_) return {};
  return std::unique_lock<std::mutex>(serialMu_);
}

// The call's latency, waited for outside the lock — and shortened when the latency is lowered
// meanwhile (a test ends a hang without waiting it out).
void SimulatedHns::delay(const char* function) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  std::chrono::microseconds extra{0};
  if (jitter_.count() > 0) extra = std::chrono::microseconds(std::uniform_int_distribution<long long>(0, jitter_.count())(rng_));
  for (;;) {
    auto it = functionLatency_.find(function);
    const auto d = it != functionLatency_.end() ? it->second : latency_ + (latency_.count() > 0 || jitter_.count() > 0 ? extra : std::chrono::microseconds{0});
    const auto until = start + d;
    if (d.count() <= 0 || std::chrono::steady_clock::now() >= until) return;
    latencyChanged_.wait_until(lock, until);
  }
}

std::map<std::string, int> SimulatedHns::callCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void SimulatedHns::resetCallLog() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.clear();
}

void SimulatedHns::clearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  failAt_.clear();
  failFraction_.clear();
  unavailableCalls_ = 0;
}

struct SimulatedHns::Subscriber {
  NotificationHandler handler;
};

Result<std::unique_ptr<Subscription>> SimulatedHns::subscribe(NotificationHandler handler) {
  // The registration holds the list weakly, so it may outlive the simulator; notifications are
  // delivered under subscribersMu_, so none runs after the registration is destroyed.
  struct Registration final : Subscription {
    std::shared_ptr<std::mutex> mu;
    std::weak_ptr<std::vector<std::shared_ptr<Subscriber>>> list;
    std::shared_ptr<Subscriber> self;
    ~Registration() override {
      std::lock_guard<std::mutex> lock(*mu);
      if (auto l = list.lock()) l->erase(std::remove(l->begin(), l->end(), self), l->end());
    }
  };
  auto r = std::make_unique<Registration>();
  r->mu = subscribersMu_;
  r->list = subscribers_;
  r->self = std::make_shared<Subscriber>(Subscriber{std::move(handler)});
  std::lock_guard<std::mutex> lock(*subscribersMu_);
  subscribers_->push_back(r->self);
  return std::unique_ptr<Subscription>(std::move(r));
}

void SimulatedHns::restartService(int failingCalls, bool dropLoadBalancers) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    handles_.clear();
    unavailableCalls_ = failingCalls;
    if (dropLoadBalancers) {
      for (const auto& [id, lb] : loadBalancers_) indexLoadBalancer(lb, -1);
      loadBalancers_.clear();
    }
  }
  std::lock_guard<std::mutex> lock(*subscribersMu_);
  for (const auto& sub : *subscribers_) sub->handler(ServiceNotification{hcn::kNotificationServiceDisconnect, {}});
}

int SimulatedHns::totalCalls() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& [f, c] : calls_) n += c;
  return n;
}

int SimulatedHns::mutatingCalls() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& [f, c] : calls_)
    if (f.find("Create") != std::string::npos || f.find("Modify") != std::string::npos ||
        f.find("Delete") != std::string::npos)
      n += c;
  return n;
}

// Random (version 4) GUIDs as HNS's are: never the same across simulator processes, so a record
// that kept an old ID after a restart is caught (a counter restarting at 1 gave re-created objects
// their old IDs back). seedIds() makes them reproducible for a test.
std::string SimulatedHns::newGuid() {
  std::uniform_int_distribution<std::uint64_t> d;
  const std::uint64_t a = d(idRng_), b = d(idRng_);
  return fmt::format("{:08X}-{:04X}-4{:03X}-{:04X}-{:012X}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffull);
}

void SimulatedHns::seedIds(std::uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  idRng_.seed(seed);
}

namespace {

// The address family a load balancer's flags say (IPv6 bit) must be its frontends' and source VIP's.
bool familyAgrees(const HcnLoadBalancer& lb) {
  const bool v6 = (lb.flags & hcn::kLbFlagIPv6) != 0;
  auto agrees = [&](const std::string& a) {
    auto ip = policy::IpAddress::parse(a);
    return !ip || ip->isV4() != v6;
  };
  if (!lb.sourceVip.empty() && !agrees(lb.sourceVip)) return false;
  return std::all_of(lb.frontendVips.begin(), lb.frontendVips.end(), agrees);
}

}  // namespace

Result<std::vector<std::string>> SimulatedHns::enumerate(ObjectKind kind, const std::string& q) {
  auto serialized = oneAtATime();
  delay(fn("enumerate", kind));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = injected(fn("enumerate", kind))) return *e;
  auto filter = filterOf(q);
  if (!filter) return hcnError(fn("enumerate", kind), filter.error().hresult, filter.error().message);
  std::vector<std::string> out;
  auto scan = [&](const auto& m) {
    for (const auto& [id, obj] : m)
      if (matches(*filter, toJson(obj))) out.push_back(id);
  };
  switch (kind) {
    case ObjectKind::Network: scan(networks_); break;
    case ObjectKind::Endpoint: scan(endpoints_); break;
    case ObjectKind::LoadBalancer: scan(loadBalancers_); break;
  }
  return out;
}

Result<Handle> SimulatedHns::open(ObjectKind kind, const std::string& rawId) {
  auto serialized = oneAtATime();
  delay(fn("open", kind));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = injected(fn("open", kind))) return *e;
  std::string id = normalizeGuid(rawId);
  bool exists = (kind == ObjectKind::Network && networks_.count(id)) ||
                (kind == ObjectKind::Endpoint && endpoints_.count(id)) ||
                (kind == ObjectKind::LoadBalancer && loadBalancers_.count(id));
  if (!exists) return hcnError(fn("open", kind), hcn::kErrorNotFound, kNotFoundText);
  Handle h = nextHandle_++;
  handles_[h] = {kind, id};
  return h;
}

Result<std::string> SimulatedHns::query(Handle h, const std::string& q) {
  auto serialized = oneAtATime();
  delay("HcnQueryProperties");
  std::lock_guard<std::mutex> lock(mu_);
  auto obj = handles_.find(h);
  const char* f = obj == handles_.end() ? "HcnQueryProperties" : fn("query", obj->second.kind);
  if (auto e = injected(f)) return *e;
  if (obj == handles_.end()) return hcnError(f, hcn::kEInvalidArg, "The handle is invalid. ");
  if (auto filter = filterOf(q); !filter) return hcnError(f, filter.error().hresult, filter.error().message);
  const std::string& id = obj->second.id;
  switch (obj->second.kind) {
    case ObjectKind::Network:
      if (networks_.count(id)) return toJson(networks_.at(id)).dump();
      break;
    case ObjectKind::Endpoint:
      if (endpoints_.count(id)) return toJson(endpoints_.at(id)).dump();
      break;
    case ObjectKind::LoadBalancer:
      if (loadBalancers_.count(id)) return toJson(loadBalancers_.at(id)).dump();
      break;
  }
  return hcnError(f, hcn::kErrorNotFound, kNotFoundText);
}

Result<Handle> SimulatedHns::create(ObjectKind kind, const std::string& rawId, const std::string& settings,
                                    Handle network) {
  auto serialized = oneAtATime();
  delay(fn("create", kind));
  std::lock_guard<std::mutex> lock(mu_);
  const char* f = fn("create", kind);
  if (auto e = injected(f)) return *e;
  json doc = json::parse(settings, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return hcnError(f, hcn::kHcnInvalidJson, "The JSON document is invalid. ");
  std::string id = rawId.empty() ? std::string(kZeroGuid) : normalizeGuid(rawId);
  if (id != kZeroGuid && !isGuid(id)) return hcnError(f, hcn::kEInvalidArg, "The parameter is incorrect. ");
  if (id == kZeroGuid) {
    do {  // unique, also against objects loaded from a state file
      id = newGuid();
    } while (networks_.count(id) || endpoints_.count(id) || loadBalancers_.count(id));
  }
  if (networks_.count(id) || endpoints_.count(id) || loadBalancers_.count(id))
    return hcnError(f, hcn::kErrorAlreadyExists, "Cannot create a file when that file already exists. ");

  auto invalid = [&](const Error& e) { return hcnError(f, hcn::kHcnInvalidJson, e.message); };
  switch (kind) {
    case ObjectKind::Network: {
      auto n = networkFromJson(doc);
      if (!n) return invalid(n.error());
      for (const auto& [oid, other] : networks_)
        if (other.name == n->name) return hcnError(f, hcn::kHcnNetworkAlreadyExists, "A network with this name already exists. ");
      n->id = id;
      networks_[id] = *n;
      break;
    }
    case ObjectKind::Endpoint: {
      auto e = endpointFromJson(doc);
      if (!e) return invalid(e.error());
      auto net = handles_.find(network);
      if (net == handles_.end() || net->second.kind != ObjectKind::Network || !networks_.count(net->second.id))
        return hcnError(f, hcn::kHcnNetworkNotFound, "The network was not found. ");
      for (const auto& c : e->ipConfigurations)
        if (!policy::IpAddress::parse(c.ipAddress))
          return hcnError(f, hcn::kHcnInvalidIp, "The IP address is invalid or not in a configured subnet. ");
      // HNS keeps a MAC in its own form, and gives an endpoint created without one a Hyper-V MAC.
      if (e->macAddress.empty()) {
        std::uniform_int_distribution<std::uint32_t> d(0, 0xffffff);
        const std::uint32_t v = d(idRng_);
        e->macAddress = fmt::format("00-15-5D-{:02X}-{:02X}-{:02X}", v >> 16, (v >> 8) & 0xff, v & 0xff);
      } else if (policy::MacText mac(e->macAddress); mac.isMac()) {
        e->macAddress = mac.str();
      } else {
        return hcnError(f, hcn::kEInvalidArg, "The parameter is incorrect. ");
      }
      e->id = id;
      e->network = net->second.id;
      endpoints_[id] = *e;
      break;
    }
    case ObjectKind::LoadBalancer: {
      auto lb = loadBalancerFromJson(doc);
      if (!lb) return invalid(lb.error());
      for (const auto& v : lb->frontendVips)
        if (!policy::IpAddress::parse(v)) return hcnError(f, hcn::kHcnInvalidIp, "An address provided is invalid or reserved. ");
      if (!lb->sourceVip.empty() && !policy::IpAddress::parse(lb->sourceVip))
        return hcnError(f, hcn::kHcnInvalidIp, "An address provided is invalid or reserved. ");
      if (lb->portMappings.empty() || lb->portMappings[0].internalPort == 0)
        return hcnError(f, hcn::kHcnInvalidInternalPort, "The internal port must exist and cannot be zero. ");
      // Strict where HNS's behaviour is not documented: an IPv4 frontend on a load balancer flagged
      // IPv6 (or the reverse) is refused, not stored.
      if (!familyAgrees(*lb)) return hcnError(f, hcn::kEInvalidArg, "The parameter is incorrect. ");
      for (const auto& ep : lb->endpoints)
        if (!endpoints_.count(ep))
          return hcnError(f, hcn::kHcnInvalidJsonReference,
                          "The reference is invalid in the JSON document. A Reference is required ");
      if (lb->endpoints.empty() || lb->endpoints.size() > profile_.maxBackends)
        return hcnError(f, hcn::kEInvalidArg,
                        "The parameter is incorrect. Unable to initialize VFP LB rule: invalid number of destinations.");
      if ((lb->flags & hcn::kLbFlagDsr) && !profile_.dsr) return hcnError(f, hcn::kEInvalidArg, "The parameter is incorrect. ");
      if (auto held = frontends_.find(frontendKey(*lb)); held != frontends_.end()) {
        const auto& other = loadBalancers_.at(held->second);
        std::set<std::string> a(other.endpoints.begin(), other.endpoints.end()), b(lb->endpoints.begin(), lb->endpoints.end());
        if (a == b) return hcnError(f, hcn::kErrorAlreadyExists, "Cannot create a file when that file already exists. ");
        return hcnError(f, hcn::kHcnPortAlreadyExists, "The specified port already exists. ");
      }
      lb->id = id;
      loadBalancers_[id] = *lb;
      indexLoadBalancer(*lb, +1);
      break;
    }
  }
  Handle h = nextHandle_++;
  handles_[h] = {kind, id};
  return h;
}

Status SimulatedHns::modify(Handle h, const std::string& settings) {
  auto serialized = oneAtATime();
  delay("HcnModifyLoadBalancer");
  std::lock_guard<std::mutex> lock(mu_);
  auto obj = handles_.find(h);
  const char* f = obj == handles_.end() ? "HcnModify" : fn("modify", obj->second.kind);
  if (auto e = injected(f)) return *e;
  if (obj == handles_.end()) return hcnError(f, hcn::kEInvalidArg, "The handle is invalid. ");
  if (obj->second.kind != ObjectKind::LoadBalancer)
    return hcnError(f, hcn::kENotImpl, "Not implemented by the simulator for this object type. ");
  if (profile_.modify == ModifyBehaviour::NotImplemented) return hcnError(f, hcn::kENotImpl, "Not implemented ");
  json doc = json::parse(settings, nullptr, false);
  auto lb = doc.is_discarded() ? Result<HcnLoadBalancer>(Error(ErrorCode::InvalidArgument, "bad JSON"))
                               : loadBalancerFromJson(doc);
  if (!lb) return hcnError(f, hcn::kHcnInvalidJson, "The JSON document is invalid. ");
  if (!familyAgrees(*lb)) return hcnError(f, hcn::kEInvalidArg, "The parameter is incorrect. ");
  auto it = loadBalancers_.find(obj->second.id);
  if (it == loadBalancers_.end()) return hcnError(f, hcn::kErrorNotFound, kNotFoundText);
  for (const auto& ep : lb->endpoints)
    if (!endpoints_.count(ep))
      return hcnError(f, hcn::kHcnInvalidJsonReference, "The reference is invalid in the JSON document. ");
  if (lb->endpoints.empty() || lb->endpoints.size() > profile_.maxBackends)
    return hcnError(f, hcn::kEInvalidArg, "The parameter is incorrect. Unable to initialize VFP LB rule: invalid number of destinations.");
  lb->id = it->second.id;
  // HNS 15.4: the call succeeds, but the backends stay as they were (kubernetes#131466).
  if (profile_.modify == ModifyBehaviour::IgnoresBackends) lb->endpoints = it->second.endpoints;
  indexLoadBalancer(it->second, -1);
  it->second = *lb;
  indexLoadBalancer(it->second, +1);
  return Ok{};
}

Status SimulatedHns::remove(ObjectKind kind, const std::string& rawId) {
  auto serialized = oneAtATime();
  delay(fn("delete", kind));
  std::lock_guard<std::mutex> lock(mu_);
  const char* f = fn("delete", kind);
  if (auto e = injected(f)) return *e;
  std::string id = normalizeGuid(rawId);
  switch (kind) {
    case ObjectKind::Network: {
      if (!networks_.count(id)) return hcnError(f, hcn::kErrorNotFound, kNotFoundText);
      for (const auto& [eid, e] : endpoints_)
        if (e.network == id) return hcnError(f, hcn::kHcnEntityHasReferences, "The network still has endpoints. ");
      networks_.erase(id);
      break;
    }
    case ObjectKind::Endpoint: {
      if (!endpoints_.count(id)) return hcnError(f, hcn::kErrorNotFound, kNotFoundText);
      if (auto r = endpointRefs_.find(id); r != endpointRefs_.end() && r->second > 0) {
        for (const auto& [lid, lb] : loadBalancers_)  // the error path only: name the load balancer
          if (std::find(lb.endpoints.begin(), lb.endpoints.end(), id) != lb.endpoints.end())
            return hcnError(f, hcn::kHcnEntityHasReferences, "The endpoint is referenced by load balancer " + lid + ". ");
      }
      endpoints_.erase(id);
      break;
    }
    case ObjectKind::LoadBalancer: {
      auto it = loadBalancers_.find(id);
      if (it == loadBalancers_.end()) return hcnError(f, hcn::kErrorNotFound, kNotFoundText);
      indexLoadBalancer(it->second, -1);
      loadBalancers_.erase(it);
      break;
    }
  }
  return Ok{};
}

void SimulatedHns::close(Handle h) {
  std::lock_guard<std::mutex> lock(mu_);
  ++calls_["HcnClose"];
  handles_.erase(h);
}

Result<policy::HnsVersion> SimulatedHns::version() {
  auto serialized = oneAtATime();
  delay("HNSCall GET /globals/version");
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = injected("HNSCall GET /globals/version")) return *e;
  return profile_.version;
}

HnsSnapshot SimulatedHns::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  HnsSnapshot s;
  s.version = profile_.version;
  for (const auto& [id, n] : networks_) s.networks.push_back(n);
  for (const auto& [id, e] : endpoints_) s.endpoints.push_back(e);
  for (const auto& [id, lb] : loadBalancers_) s.loadBalancers.push_back(lb);
  s.adapters = adapters_;
  return s;
}

// The host's adapters are the node's, not HNS's: no latency, no faults, not in the call log.
Result<std::vector<policy::HostAdapter>> SimulatedHns::hostAdapters() {
  std::lock_guard<std::mutex> lock(mu_);
  return adapters_;
}

std::size_t SimulatedHns::openHandles() const {
  std::lock_guard<std::mutex> lock(mu_);
  return handles_.size();
}

void SimulatedHns::setHostAdapters(std::vector<policy::HostAdapter> adapters) {
  std::lock_guard<std::mutex> lock(mu_);
  adapters_ = std::move(adapters);
}

}  // namespace hnsproxy::hns
