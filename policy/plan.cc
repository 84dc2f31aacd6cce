#include "policy/plan.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <sstream>

#include <fmt/format.h>

namespace hnsproxy::policy {

std::string_view toString(OpKind k) {
  switch (k) {
    case OpKind::CreateEndpoint: return "create-endpoint";
    case OpKind::DeleteEndpoint: return "delete-endpoint";
    case OpKind::CreateLoadBalancer: return "create-lb";
    case OpKind::ModifyLoadBalancer: return "modify-lb";
    case OpKind::DeleteLoadBalancer: return "delete-lb";
  }
  return "?";
}

std::string Op::str() const {
  bool isEp = kind == OpKind::CreateEndpoint || kind == OpKind::DeleteEndpoint;
  return fmt::format("[{}] {} {}{}", phase, toString(kind), isEp ? endpoint.str() : lb->str(),
                     reason.empty() ? "" : " # " + reason.str());
}

std::size_t Plan::count(OpKind k) const {
  return static_cast<std::size_t>(std::count_if(ops.begin(), ops.end(), [k](const Op& o) { return o.kind == k; }));
}

namespace {

// Lines gathered into blocks of ~64 KiB before they are written: one write per line was a call
// into the stream (and stdio, for std::cout) per operation.
class BlockWriter {
 public:
  explicit BlockWriter(std::ostream& out) : out_(out) { buf_.reserve(kBlock + 1024); }
  ~BlockWriter() { flush(); }
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;
  void line(std::string_view indent, const std::string& text) {
    buf_ += indent;
    buf_ += text;
    buf_ += '\n';
    if (buf_.size() >= kBlock) flush();
  }
  void flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }

 private:
  static constexpr std::size_t kBlock = std::size_t{64} * 1024;
  std::ostream& out_;
  std::string buf_;
};

}  // namespace

void Plan::writeText(std::ostream& out) const {
  out << fmt::format("plan: {} operation(s): {} endpoint create, {} endpoint delete, {} lb create, {} lb "
                     "modify, {} lb delete\n",
                     ops.size(), count(OpKind::CreateEndpoint), count(OpKind::DeleteEndpoint),
                     count(OpKind::CreateLoadBalancer), count(OpKind::ModifyLoadBalancer),
                     count(OpKind::DeleteLoadBalancer));
  BlockWriter w(out);
  for (const auto& op : ops) w.line("  ", op.str());
}

void Plan::writeTextByService(std::ostream& out) const {
  out << fmt::format(
      "plan: {} operation(s); load balancers: {} create, {} modify, {} delete; endpoints: {} create, {} delete\n",
      ops.size(), count(OpKind::CreateLoadBalancer), count(OpKind::ModifyLoadBalancer), count(OpKind::DeleteLoadBalancer),
      count(OpKind::CreateEndpoint), count(OpKind::DeleteEndpoint));
  std::map<std::string, std::vector<const Op*>> groups;
  std::vector<const Op*> endpointOps;
  for (const auto& op : ops) {
    if (op.kind == OpKind::CreateEndpoint || op.kind == OpKind::DeleteEndpoint) endpointOps.push_back(&op);
    else groups[op.lb->service.name.empty() ? std::string("(no service: adopted from HNS)") : op.lb->service.str()].push_back(&op);
  }
  auto tally = [](const std::vector<const Op*>& g) {
    std::map<std::string_view, int> n;
    for (const Op* op : g) ++n[toString(op->kind)];
    std::string s;
    for (const auto& [k, c] : n) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", c, k);
    return s;
  };
  BlockWriter w(out);
  for (const auto& [service, g] : groups) {
    w.line("", fmt::format("{}  ({})", service, tally(g)));
    for (const Op* op : g) w.line("    ", op->str());
  }
  if (!endpointOps.empty()) {
    w.line("", fmt::format("remote endpoints  ({})", tally(endpointOps)));
    for (const Op* op : endpointOps) w.line("    ", op->str());
  }
}

std::string Plan::text() const {
  std::ostringstream out;
  writeText(out);
  return std::move(out).str();
}

std::string Plan::textByService() const {
  std::ostringstream out;
  writeTextByService(out);
  return std::move(out).str();
}

namespace {

// Calls f(key, applied value or nullptr, desired value or nullptr) for every key of either map, in
// order: a full diff walks both sorted maps side by side (a set of their keys was 6 MB at 100,000
// endpoints, at a restart's peak); a scoped one looks up its keys.
template <typename Map, typename Keys, typename F>
void forEachKey(const Map& applied, const Map& desired, bool all, const Keys& keys, F f) {
  using V = typename Map::mapped_type;
  if (!all) {
    for (const auto& k : keys) {
      auto a = applied.find(k);
      auto d = desired.find(k);
      f(k, a == applied.end() ? static_cast<const V*>(nullptr) : &a->second,
        d == desired.end() ? static_cast<const V*>(nullptr) : &d->second);
    }
    return;
  }
  auto a = applied.begin();
  auto d = desired.begin();
  while (a != applied.end() || d != desired.end()) {
    if (d == desired.end() || (a != applied.end() && a->first < d->first)) {
      f(a->first, &a->second, static_cast<const V*>(nullptr));
      ++a;
    } else if (a == applied.end() || d->first < a->first) {
      f(d->first, static_cast<const V*>(nullptr), &d->second);
      ++d;
    } else {
      f(a->first, &a->second, &d->second);
      ++a;
      ++d;
    }
  }
}

// The fixed reasons, each named once (a shared name's lookup takes a lock: not once per operation
// of a 100,000-operation plan).
const SharedName& reasonNew() {
  static const SharedName r("new");
  return r;
}
const SharedName& reasonUnused() {
  static const SharedName r("unused");
  return r;
}
const SharedName& reasonReplaced() {
  static const SharedName r("replaced");
  return r;
}
const SharedName& reasonGone() {
  static const SharedName r("gone");
  return r;
}

Op lbOp(OpKind kind, int phase, const LoadBalancer& lb, const SharedName& reason) {
  Op op{kind, static_cast<std::int8_t>(phase), {}, lb, reason};
  return op;
}

Op epOp(OpKind kind, int phase, const ManagedEndpoint& ep, const SharedName& reason) {
  Op op{kind, static_cast<std::int8_t>(phase), ep, {}, reason};
  return op;
}

std::string changeReason(const LoadBalancer& a, const LoadBalancer& d) {
  std::string r;
  auto add = [&](bool changed, const char* what) {
    if (changed) r += (r.empty() ? "" : ",") + std::string(what);
  };
  add(a.backends != d.backends, "backends");
  add(a.internalPort != d.internalPort, "internal-port");
  add(a.dsr != d.dsr, "flags");
  add(a.reachableFromHost != d.reachableFromHost || a.reachableFromOutside != d.reachableFromOutside ||
          a.preserveDestination != d.preserveDestination,
      "port-flags");
  add(a.foreignSettings || d.foreignSettings, "foreign-settings");
  add(a.distribution != d.distribution, "distribution");
  add(a.sourceVip != d.sourceVip, "source-vip");
  return r;
}

}  // namespace

Plan diff(const HnsState& applied, const HnsState& desired, const Capabilities& caps, const DiffScope& scope) {
  Plan plan;
  // A first programming creates everything: its plan is sized exactly (grown by doubling it had
  // up to twice the room, 9 MB at 114,000 operations, through the whole programming).
  if (scope.all && applied.endpoints.empty() && applied.loadBalancers.empty())
    plan.ops.reserve(desired.endpoints.size() + desired.loadBalancers.size());
  std::set<IpAddress> replaced;
  auto endpoint = [&](const IpAddress& ip, const ManagedEndpoint* a, const ManagedEndpoint* d) {
    if (a && d && *a == *d) return;
    if (!a && d) {
      plan.ops.push_back(epOp(OpKind::CreateEndpoint, kPhaseCreateEndpoints, *d, reasonNew()));
    } else if (a && !d) {
      plan.ops.push_back(epOp(OpKind::DeleteEndpoint, kPhaseDeleteEndpoints, *a, reasonUnused()));
    } else if (a && d) {
      replaced.insert(ip);
      plan.ops.push_back(epOp(OpKind::DeleteEndpoint, kPhaseDeleteEndpoints, *a, reasonReplaced()));
      plan.ops.push_back(epOp(OpKind::CreateEndpoint, kPhaseRecreateEndpoints, *d, reasonReplaced()));
    }
  };
  forEachKey(applied.endpoints, desired.endpoints, scope.all, scope.endpoints, endpoint);

  // Load balancers whose backends include a replaced endpoint (before or after) must be
  // re-created: their HNS endpoint IDs change, and a modify would run while the old one exists. This scan is over the applied record and happens only when an
  // endpoint's content changed (a network or node-context change), never per endpoint event.
  std::set<LbKey> forced;
  if (!replaced.empty()) {
    for (const auto* side : {&applied.loadBalancers, &desired.loadBalancers})
      for (const auto& [key, lb] : *side)
        for (const auto& b : lb.backends)
          if (replaced.count(b)) {
            forced.insert(key);
            break;
          }
  }
  // A scoped diff also looks at the forced keys; a full one walks every key anyway.
  std::set<LbKey> scopedKeys;
  if (!scope.all) {
    scopedKeys = scope.loadBalancers;
    scopedKeys.insert(forced.begin(), forced.end());
  }

  auto loadBalancer = [&](const LbKey& key, const LoadBalancer* a, const LoadBalancer* d) {
    if (!a && !d) return;
    if (!a) {
      plan.ops.push_back(lbOp(OpKind::CreateLoadBalancer, kPhaseCreateLoadBalancers, *d, reasonNew()));
      return;
    }
    if (!d) {
      plan.ops.push_back(lbOp(OpKind::DeleteLoadBalancer, kPhaseDeleteLoadBalancers, *a, reasonGone()));
      return;
    }
    bool isForced = forced.count(key) > 0;
    bool repoint = false;
    if (!scope.repointed.empty())
      for (const auto& b : d->backends)
        if (scope.repointed.count(b)) repoint = true;
    if (!isForced && !repoint && a->sameContent(*d)) return;
    std::string why = isForced ? std::string("endpoint replaced")
                      : repoint && a->sameContent(*d) ? std::string("endpoint re-pointed")
                                                      : changeReason(*a, *d);
    if (!isForced && caps.modifyLoadBalancer && d->allowModify) {
      plan.ops.push_back(lbOp(OpKind::ModifyLoadBalancer, kPhaseModifyLoadBalancers, *d, SharedName(why)));
    } else {
      plan.ops.push_back(lbOp(OpKind::DeleteLoadBalancer, kPhaseDeleteLoadBalancers, *a, SharedName("replace: " + why)));
      plan.ops.push_back(lbOp(OpKind::CreateLoadBalancer, kPhaseCreateLoadBalancers, *d, SharedName("replace: " + why)));
    }
  };
  forEachKey(applied.loadBalancers, desired.loadBalancers, scope.all, scopedKeys, loadBalancer);
  std::stable_sort(plan.ops.begin(), plan.ops.end(), [](const Op& x, const Op& y) { return x.phase < y.phase; });
  return plan;
}

void applyOp(HnsState& state, const Op& op) {
  switch (op.kind) {
    case OpKind::CreateEndpoint: state.endpoints[op.endpoint.ip] = op.endpoint; break;
    case OpKind::DeleteEndpoint: state.endpoints.erase(op.endpoint.ip); break;
    case OpKind::CreateLoadBalancer:
    case OpKind::ModifyLoadBalancer: state.loadBalancers[op.lb->key] = *op.lb; break;
    case OpKind::DeleteLoadBalancer: state.loadBalancers.erase(op.lb->key); break;
  }
}

HnsState apply(HnsState state, const Plan& plan) {
  for (const auto& op : plan.ops) applyOp(state, op);
  return state;
}

}  // namespace hnsproxy::policy
