#include "watch/decoder.h"
#include "policy/ip.h"

#include <algorithm>
#include <iterator>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

namespace hnsproxy::watch {

using nlohmann::json;
using namespace hnsproxy::policy;

namespace {

// Thrown inside this file only; turned into an Error at the decode* boundary.
struct FieldError {
  std::string field;
  std::string value;
  std::string reason;
};

std::string shown(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) {
    s.resize(77);
    s += "...";
  }
  return s;
}

[[noreturn]] void fail(const std::string& field, const json& v, const std::string& reason) {
  throw FieldError{field, shown(v), reason};
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const json& objectAt(const json& parent, const char* key, const std::string& path) {
  static const json kEmpty = json::object();
  const json* v = member(parent, key);
  if (!v) return kEmpty;
  if (!v->is_object()) fail(path, *v, "must be an object");
  return *v;
}

const json& arrayAt(const json& parent, const char* key, const std::string& path) {
  static const json kEmpty = json::array();
  const json* v = member(parent, key);
  if (!v) return kEmpty;
  if (!v->is_array()) fail(path, *v, "must be a list");
  return *v;
}

std::string stringAt(const json& parent, const char* key, const std::string& path, const std::string& dflt = "") {
  const json* v = member(parent, key);
  if (!v) return dflt;
  if (!v->is_string()) fail(path, *v, "must be a string");
  return v->get<std::string>();
}

std::optional<bool> boolAt(const json& parent, const char* key, const std::string& path) {
  const json* v = member(parent, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) fail(path, *v, "must be true or false");
  return v->get<bool>();
}

std::int64_t intAt(const json& parent, const char* key, const std::string& path, std::int64_t lo, std::int64_t hi,
                   std::int64_t dflt) {
  const json* v = member(parent, key);
  if (!v) return dflt;
  if (!v->is_number_integer()) fail(path, *v, "must be an integer");
  std::int64_t n = v->get<std::int64_t>();
  if (n < lo || n > hi) fail(path, *v, fmt::format("must be between {} and {}", lo, hi));
  return n;
}

IpAddress ipOf(const json& v, const std::string& path) {
  if (!v.is_string()) fail(path, v, "must be an IP address string");
  auto ip = IpAddress::parse(v.get<std::string>());
  if (!ip) fail(path, v, "not a valid IP address");
  return *ip;
}

Protocol protocolAt(const json& parent, const std::string& path) {
  std::string p = stringAt(parent, "protocol", path, "TCP");
  if (p == "TCP") return Protocol::TCP;
  if (p == "UDP") return Protocol::UDP;
  if (p == "SCTP") return Protocol::SCTP;
  fail(path, p, "must be TCP, UDP or SCTP");
}

bool validName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  return true;
}

struct Meta {
  std::string ns, name;
  Timestamp created{};
  const json* labels = nullptr;
  const json* annotations = nullptr;
  bool deleting = false;
};

Meta metaOf(const json& j, bool namespaced) {
  if (!j.is_object()) fail("", j, "the object is not a JSON/YAML mapping");
  const json& md = objectAt(j, "metadata", "metadata");
  Meta m;
  m.name = stringAt(md, "name", "metadata.name");
  if (m.name.empty()) fail("metadata.name", "", "is required");
  if (!validName(m.name)) fail("metadata.name", m.name, "must be a lower-case DNS name");
  if (namespaced) {
    m.ns = stringAt(md, "namespace", "metadata.namespace", "default");
    if (m.ns.empty()) m.ns = "default";
    if (!validName(m.ns)) fail("metadata.namespace", m.ns, "must be a lower-case DNS label");
  }
  if (std::string ts = stringAt(md, "creationTimestamp", "metadata.creationTimestamp"); !ts.empty()) {
    auto t = parseRfc3339(ts);
    if (!t) fail("metadata.creationTimestamp", ts, "not an RFC 3339 time");
    m.created = *t;
  }
  m.deleting = member(md, "deletionTimestamp") != nullptr;
  m.labels = &objectAt(md, "labels", "metadata.labels");
  m.annotations = &objectAt(md, "annotations", "metadata.annotations");
  return m;
}

std::string label(const Meta& m, const char* key, bool* present = nullptr) {
  const json* v = member(*m.labels, key);
  if (present) *present = v != nullptr;
  return v && v->is_string() ? v->get<std::string>() : "";
}

std::string annotation(const Meta& m, const char* key) {
  const json* v = member(*m.annotations, key);
  if (!v) return "";
  if (!v->is_string()) fail(std::string("metadata.annotations.") + key, *v, "must be a string");
  return v->get<std::string>();
}

template <typename T, typename F>
Result<T> guarded(const char* kind, bool namespaced, const json& j, F&& body) {
  try {
    return body();
  } catch (const FieldError& e) {
    std::string who = kind;
    if (j.is_object()) {
      const json* md = member(j, "metadata");
      if (md && md->is_object()) {
        const json* ns = member(*md, "namespace");
        const json* name = member(*md, "name");
        std::string nsText = ns && ns->is_string() && !ns->get<std::string>().empty() ? ns->get<std::string>() : "default";
        std::string id = (namespaced ? nsText + "/" : "") +
                         (name && name->is_string() ? name->get<std::string>() : "<unnamed>");
        who += " " + id;
      }
    }
    std::string msg = e.field.empty() ? fmt::format("{}: {}", who, e.reason)
                                      : fmt::format("{}: field {}: invalid value \"{}\": {}", who, e.field, e.value,
                                                    e.reason);
    return Error(ErrorCode::InvalidInput, msg);
  } catch (const json::exception& e) {
    return Error(ErrorCode::InvalidInput, fmt::format("{}: {}", kind, e.what()));
  }
}

}  // namespace

std::optional<Timestamp> parseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  auto digits = [&](std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (!digits(0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' || !digits(8, 2, d) ||
      (s[10] != 'T' && s[10] != 't') || !digits(11, 2, h) || s[13] != ':' || !digits(14, 2, mi) || s[16] != ':' ||
      !digits(17, 2, sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  // Timestamps are kept in nanoseconds since 1970, which hold 1678-2261; Kubernetes writes times of
  // this era, and a year outside is refused rather than overflowed.
  if (y < 1678 || y > 2261) return std::nullopt;
  std::size_t i = 19;
  std::chrono::nanoseconds frac{0};
  if (i < s.size() && s[i] == '.') {
    std::int64_t scale = 100000000, ns = 0;
    std::size_t j = i + 1;
    for (; j < s.size() && s[j] >= '0' && s[j] <= '9'; ++j) {
      ns += (s[j] - '0') * scale;
      scale /= 10;
    }
    if (j == i + 1) return std::nullopt;
    frac = std::chrono::nanoseconds(ns);
    i = j;
  }
  std::chrono::minutes offset{0};
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (i + 6 != s.size() || !digits(i + 1, 2, oh) || s[i + 3] != ':' || !digits(i + 4, 2, om)) return std::nullopt;
    offset = std::chrono::minutes((oh * 60 + om) * (s[i] == '+' ? 1 : -1));
  } else if (i + 1 != s.size() || (s[i] != 'Z' && s[i] != 'z')) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  auto t = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) +
           frac - offset;
  return std::chrono::time_point_cast<Timestamp::duration>(t);
}

Result<Service> decodeService(const json& j) {
  return guarded<Service>("Service", true, j, [&]() -> Result<Service> {
    Meta m = metaOf(j, true);
    Service s;
    s.id = {m.ns, m.name};
    s.created = m.created;
    label(m, "service.kubernetes.io/service-proxy-name", &s.hasProxyNameLabel);
    s.preserveDestination = annotation(m, "preserve-destination") == "true";
    {
      std::string opt = annotation(m, "winProxyOptimization");
      for (auto& c : opt) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      s.winProxyOptimization = opt != "DISABLED";
    }
    s.topologyModeAuto = annotation(m, "service.kubernetes.io/topology-mode") == "Auto";

    const json& spec = objectAt(j, "spec", "spec");
    std::string type = stringAt(spec, "type", "spec.type", "ClusterIP");
    if (type == "ClusterIP") s.type = ServiceType::ClusterIP;
    else if (type == "NodePort") s.type = ServiceType::NodePort;
    else if (type == "LoadBalancer") s.type = ServiceType::LoadBalancer;
    else if (type == "ExternalName") s.type = ServiceType::ExternalName;
    else fail("spec.type", type, "must be ClusterIP, NodePort, LoadBalancer or ExternalName");

    std::string clusterIP = stringAt(spec, "clusterIP", "spec.clusterIP");
    const json& clusterIPs = arrayAt(spec, "clusterIPs", "spec.clusterIPs");
    if (clusterIP == "None") s.headless = true;
    if (s.type != ServiceType::ExternalName && !s.headless) {
      if (!clusterIPs.empty()) {
        if (clusterIPs.size() > 2) fail("spec.clusterIPs", clusterIPs, "at most two (one per family)");
        for (std::size_t i = 0; i < clusterIPs.size(); ++i) {
          if (clusterIPs[i].is_string() && clusterIPs[i].get<std::string>() == "None") {
            s.headless = true;
            break;
          }
          s.clusterIPs.push_back(ipOf(clusterIPs[i], fmt::format("spec.clusterIPs[{}]", i)));
        }
        if (s.clusterIPs.size() == 2 && s.clusterIPs[0].family() == s.clusterIPs[1].family())
          fail("spec.clusterIPs", clusterIPs, "two addresses must be of different families");
        if (!clusterIP.empty() && !s.headless && IpAddress::parse(clusterIP) != s.clusterIPs.front())
          fail("spec.clusterIP", clusterIP, "must equal spec.clusterIPs[0]");
      } else if (!clusterIP.empty()) {
        s.clusterIPs.push_back(ipOf(clusterIP, "spec.clusterIP"));
      }
    }
    if (s.headless) s.clusterIPs.clear();
    const json& fams = arrayAt(spec, "ipFamilies", "spec.ipFamilies");
    for (std::size_t i = 0; i < fams.size(); ++i) {
      std::string f = fams[i].is_string() ? fams[i].get<std::string>() : "";
      if (f == "IPv4") s.ipFamilies.push_back(IpFamily::V4);
      else if (f == "IPv6") s.ipFamilies.push_back(IpFamily::V6);
      else fail(fmt::format("spec.ipFamilies[{}]", i), fams[i], "must be IPv4 or IPv6");
    }

    const json& ports = arrayAt(spec, "ports", "spec.ports");
    for (std::size_t i = 0; i < ports.size(); ++i) {
      std::string p = fmt::format("spec.ports[{}]", i);
      const json& pj = ports[i];
      if (!pj.is_object()) fail(p, pj, "must be an object");
      ServicePort sp;
      sp.name = stringAt(pj, "name", p + ".name");
      sp.protocol = protocolAt(pj, p + ".protocol");
      sp.port = static_cast<std::uint16_t>(intAt(pj, "port", p + ".port", 1, 65535, 0));
      if (sp.port == 0) fail(p + ".port", "", "is required");
      if (const json* tp = member(pj, "targetPort")) {
        if (tp->is_number_integer()) {
          sp.targetPort = static_cast<std::uint16_t>(intAt(pj, "targetPort", p + ".targetPort", 1, 65535, 0));
        } else if (tp->is_string()) {
          std::string name = tp->get<std::string>();
          if (name.empty() || name.size() > 15) fail(p + ".targetPort", *tp, "must be a port number or a port name");
          bool digits = std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
          if (digits) {
            auto n = policy::parseDecimal(name, 1, 65535);
            if (!n) fail(p + ".targetPort", *tp, "must be between 1 and 65535");
            sp.targetPort = static_cast<std::uint16_t>(*n);
          } else {
            sp.targetPort = name;
          }
        } else {
          fail(p + ".targetPort", *tp, "must be a port number or a port name");
        }
      } else {
        sp.targetPort = sp.port;
      }
      sp.nodePort = static_cast<std::uint16_t>(intAt(pj, "nodePort", p + ".nodePort", 0, 65535, 0));
      if (ports.size() > 1 && sp.name.empty()) fail(p + ".name", "", "is required when a service has several ports");
      s.ports.push_back(std::move(sp));
    }

    const json& ext = arrayAt(spec, "externalIPs", "spec.externalIPs");
    for (std::size_t i = 0; i < ext.size(); ++i)
      s.externalIPs.push_back(ipOf(ext[i], fmt::format("spec.externalIPs[{}]", i)));

    std::string affinity = stringAt(spec, "sessionAffinity", "spec.sessionAffinity", "None");
    if (affinity == "ClientIP") s.sessionAffinity = SessionAffinity::ClientIP;
    else if (affinity != "None") fail("spec.sessionAffinity", affinity, "must be None or ClientIP");
    const json& sac = objectAt(spec, "sessionAffinityConfig", "spec.sessionAffinityConfig");
    const json& cip = objectAt(sac, "clientIP", "spec.sessionAffinityConfig.clientIP");
    s.affinityTimeoutSeconds = static_cast<std::int32_t>(
        intAt(cip, "timeoutSeconds", "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 1, 86400, 10800));

    auto policyAt = [&](const char* key, const char* path) {
      std::string v = stringAt(spec, key, path, "Cluster");
      if (v == "Local") return TrafficPolicy::Local;
      if (v == "Cluster" || v == "Global") return TrafficPolicy::Cluster;
      fail(path, v, "must be Cluster or Local");
    };
    s.externalTrafficPolicy = policyAt("externalTrafficPolicy", "spec.externalTrafficPolicy");
    s.internalTrafficPolicy = policyAt("internalTrafficPolicy", "spec.internalTrafficPolicy");
    s.healthCheckNodePort =
        static_cast<std::uint16_t>(intAt(spec, "healthCheckNodePort", "spec.healthCheckNodePort", 0, 65535, 0));
    s.trafficDistribution = stringAt(spec, "trafficDistribution", "spec.trafficDistribution");

    // Ingress entries with only a hostname, or an IP that does not parse, are skipped (upstream
    // PR #99958): status is written by cloud controllers, not validated like spec.
    const json& status = objectAt(j, "status", "status");
    const json& lbs = objectAt(status, "loadBalancer", "status.loadBalancer");
    const json& ingress = arrayAt(lbs, "ingress", "status.loadBalancer.ingress");
    for (const auto& ing : ingress) {
      const json* ip = member(ing, "ip");
      if (!ip || !ip->is_string()) continue;
      // KEP-1860 (ipMode, GA in 1.32; kube-proxy takes ingress IPs only from VIP-mode entries since
      // 1.33): "Proxy" means the cloud load balancer proxies (PROXY protocol, TLS termination), so
      // in-cluster clients must reach it rather than be short-circuited on the node. Unset is VIP.
      if (const json* mode = member(ing, "ipMode"); mode && mode->is_string() && mode->get<std::string>() == "Proxy")
        continue;
      if (auto parsed = IpAddress::parse(ip->get<std::string>())) s.ingressIPs.push_back(*parsed);
    }
    return s;
  });
}

namespace {

// What decodeEndpointSlice and decodeEndpointSliceStreamed share: everything but where the
// endpoints come from. `streamed` non-null: the endpoints as EndpointsReader decoded them (the
// tree's "endpoints" is not read); nullopt is returned where only the tree can name the error.
std::optional<Result<EndpointSlice>> decodeSlice(const json& j, std::vector<Endpoint>* streamed) {
  bool needsTree = false;
  auto r = guarded<EndpointSlice>("EndpointSlice", true, j, [&]() -> Result<EndpointSlice> {
    Meta m = metaOf(j, true);
    EndpointSlice es;
    es.ns = m.ns;
    es.name = m.name;
    es.serviceName = label(m, "kubernetes.io/service-name");
    // Bookkeeping for a metric: an unreadable annotation is left out, never an invalid slice.
    es.triggerTime = parseRfc3339(annotation(m, "endpoints.kubernetes.io/last-change-trigger-time"));
    std::string at = stringAt(j, "addressType", "addressType");
    if (at == "IPv4") es.addressType = AddressType::IPv4;
    else if (at == "IPv6") es.addressType = AddressType::IPv6;
    else if (at == "FQDN") es.addressType = AddressType::FQDN;
    else fail("addressType", at, "must be IPv4, IPv6 or FQDN");

    const json& ports = arrayAt(j, "ports", "ports");
    for (std::size_t i = 0; i < ports.size(); ++i) {
      std::string p = fmt::format("ports[{}]", i);
      if (!ports[i].is_object()) fail(p, ports[i], "must be an object");
      EndpointPort ep;
      if (const json* n = member(ports[i], "name")) {
        if (!n->is_string()) fail(p + ".name", *n, "must be a string");
        ep.name = n->get<std::string>();
      }
      ep.protocol = protocolAt(ports[i], p + ".protocol");
      ep.port = static_cast<std::uint16_t>(intAt(ports[i], "port", p + ".port", 0, 65535, 0));
      es.ports.push_back(std::move(ep));
    }
    if (streamed) {
      if (es.addressType == AddressType::FQDN) return es;  // never programmed
      const IpFamily want = es.addressType == AddressType::IPv4 ? IpFamily::V4 : IpFamily::V6;
      for (const Endpoint& e : *streamed)
        if (e.address.family() != want) {  // an error the tree names with the address as written
          needsTree = true;
          return es;
        }
      es.endpoints.reserve(streamed->size());  // exactly, as below
      std::move(streamed->begin(), streamed->end(), std::back_inserter(es.endpoints));
      return es;
    }
    const json& eps = arrayAt(j, "endpoints", "endpoints");
    es.endpoints.reserve(eps.size());  // exactly: a slice of 100 would otherwise hold room for 128
    for (std::size_t i = 0; i < eps.size(); ++i) {
      std::string p = fmt::format("endpoints[{}]", i);
      if (!eps[i].is_object()) fail(p, eps[i], "must be an object");
      const json& addrs = arrayAt(eps[i], "addresses", p + ".addresses");
      if (addrs.empty()) fail(p + ".addresses", addrs, "must hold at least one address");
      if (es.addressType == AddressType::FQDN) continue;  // never programmed
      Endpoint e;
      // Only addresses[0] is used, as upstream does.
      e.address = ipOf(addrs[0], p + ".addresses[0]");
      if ((e.address.family() == IpFamily::V4) != (es.addressType == AddressType::IPv4))
        fail(p + ".addresses[0]", addrs[0], "does not match addressType " + at);
      const json& cond = objectAt(eps[i], "conditions", p + ".conditions");
      e.ready = boolAt(cond, "ready", p + ".conditions.ready").value_or(true);
      e.serving = boolAt(cond, "serving", p + ".conditions.serving").value_or(true);
      e.terminating = boolAt(cond, "terminating", p + ".conditions.terminating").value_or(false);
      e.nodeName = stringAt(eps[i], "nodeName", p + ".nodeName");
      e.zone = stringAt(eps[i], "zone", p + ".zone");
      const json& hints = objectAt(eps[i], "hints", p + ".hints");
      const json& fz = arrayAt(hints, "forZones", p + ".hints.forZones");
      for (std::size_t k = 0; k < fz.size(); ++k)
        e.hints.edit().zones.emplace_back(stringAt(fz[k], "name", fmt::format("{}.hints.forZones[{}].name", p, k)));
      const json& fn = arrayAt(hints, "forNodes", p + ".hints.forNodes");
      for (std::size_t k = 0; k < fn.size(); ++k)
        e.hints.edit().nodes.emplace_back(stringAt(fn[k], "name", fmt::format("{}.hints.forNodes[{}].name", p, k)));
      es.endpoints.push_back(std::move(e));
    }
    return es;
  });
  if (needsTree) return std::nullopt;
  return r;
}

}  // namespace

Result<EndpointSlice> decodeEndpointSlice(const json& j) { return *decodeSlice(j, nullptr); }

std::optional<Result<EndpointSlice>> decodeEndpointSliceStreamed(const json& j, std::vector<Endpoint>& endpoints) {
  return decodeSlice(j, &endpoints);
}

Result<Node> decodeNode(const json& j) {
  return guarded<Node>("Node", false, j, [&]() -> Result<Node> {
    Meta m = metaOf(j, false);
    Node n;
    n.name = m.name;
    n.deleting = m.deleting;
    n.zone = label(m, "topology.kubernetes.io/zone");
    const json& spec = objectAt(j, "spec", "spec");
    const json& cidrs = arrayAt(spec, "podCIDRs", "spec.podCIDRs");
    for (std::size_t i = 0; i < cidrs.size(); ++i) {
      std::string path = fmt::format("spec.podCIDRs[{}]", i);
      if (!cidrs[i].is_string()) fail(path, cidrs[i], "must be a CIDR string");
      auto c = Cidr::parse(cidrs[i].get<std::string>());
      if (!c) fail(path, cidrs[i], "not a valid CIDR");
      n.podCIDRs.push_back(*c);
    }
    if (n.podCIDRs.empty()) {
      std::string one = stringAt(spec, "podCIDR", "spec.podCIDR");
      if (!one.empty()) {
        auto c = Cidr::parse(one);
        if (!c) fail("spec.podCIDR", one, "not a valid CIDR");
        n.podCIDRs.push_back(*c);
      }
    }
    const json& taints = arrayAt(spec, "taints", "spec.taints");
    for (const auto& t : taints)
      if (member(t, "key") && t["key"] == "ToBeDeletedByClusterAutoscaler") n.toBeDeletedByAutoscaler = true;
    const json& status = objectAt(j, "status", "status");
    const json& addrs = arrayAt(status, "addresses", "status.addresses");
    for (std::size_t i = 0; i < addrs.size(); ++i) {
      std::string p = fmt::format("status.addresses[{}]", i);
      std::string type = stringAt(addrs[i], "type", p + ".type");
      if (type != "InternalIP" && type != "ExternalIP") continue;  // Hostname, InternalDNS, ...
      const json* a = member(addrs[i], "address");
      if (!a) fail(p + ".address", "", "is required");
      IpAddress ip = ipOf(*a, p + ".address");
      (type == "InternalIP" ? n.internalIPs : n.externalIPs).push_back(ip);
    }
    return n;
  });
}

std::vector<SharedName>& EndpointsReader::hintList(Frame f) {
  return f == Frame::Zones ? cur_.hints.edit().zones : cur_.hints.edit().nodes;
}

EndpointsReader::State EndpointsReader::key(const std::string& k) {
  Level& top = stack_.back();
  switch (top.frame) {
    case Frame::Endpoint:
      top.key = k == "addresses"    ? Key::Addresses
                : k == "conditions" ? Key::Conditions
                : k == "nodeName"   ? Key::NodeName
                : k == "zone"       ? Key::Zone
                : k == "hints"      ? Key::Hints
                                    : Key::Other;
      break;
    case Frame::Conditions:
      top.key = k == "ready" ? Key::Ready : k == "serving" ? Key::Serving : k == "terminating" ? Key::Terminating : Key::Other;
      break;
    case Frame::Hints: top.key = k == "forZones" ? Key::ForZones : k == "forNodes" ? Key::ForNodes : Key::Other; break;
    case Frame::HintItem: top.key = k == "name" ? Key::Name : Key::Other; break;
    default: break;
  }
  return state_;
}

// A later duplicate key replaces the earlier value, as it does in nlohmann's tree: each value
// starts from the field's default.
EndpointsReader::State EndpointsReader::scalar(Scalar s, std::string* text) {
  Level& top = stack_.back();
  switch (top.frame) {
    case Frame::Skip: return state_;
    case Frame::Endpoints: return fail();  // an endpoint that is not an object
    case Frame::Endpoint:
      switch (top.key) {
        case Key::Addresses:
          if (s != Scalar::Null) return fail();
          addresses_ = 0;
          break;
        case Key::Conditions:
          if (s != Scalar::Null) return fail();
          cur_.ready = cur_.serving = true;
          cur_.terminating = false;
          break;
        case Key::NodeName:
        case Key::Zone: {
          if (s != Scalar::Null && s != Scalar::String) return fail();
          SharedName v = s == Scalar::String ? SharedName(*text) : SharedName();
          (top.key == Key::NodeName ? cur_.nodeName : cur_.zone) = std::move(v);
          break;
        }
        case Key::Hints:
          if (s != Scalar::Null) return fail();
          cur_.hints = {};
          break;
        default: break;
      }
      return state_;
    case Frame::Addresses:
      if (top.count++ == 0) {  // only addresses[0] is used (and checked), as decodeEndpointSlice does
        if (s != Scalar::String) return fail();
        auto ip = IpAddress::parse(*text);
        if (!ip) return fail();
        cur_.address = *ip;
      }
      return state_;
    case Frame::Conditions: {
      bool* field = top.key == Key::Ready ? &cur_.ready : top.key == Key::Serving ? &cur_.serving
                    : top.key == Key::Terminating ? &cur_.terminating : nullptr;
      if (!field) return state_;
      if (s == Scalar::Null) *field = top.key != Key::Terminating;
      else if (s == Scalar::True || s == Scalar::False) *field = s == Scalar::True;
      else return fail();
      return state_;
    }
    case Frame::Hints:
      if (top.key != Key::ForZones && top.key != Key::ForNodes) return state_;
      if (s != Scalar::Null) return fail();
      if (!cur_.hints->zones.empty() || !cur_.hints->nodes.empty())
        hintList(top.key == Key::ForZones ? Frame::Zones : Frame::Nodes).clear();
      return state_;
    case Frame::Zones:
    case Frame::Nodes:
      hintList(top.frame).emplace_back();  // an element that is not an object has no name: ""
      return state_;
    case Frame::HintItem:
      if (top.key != Key::Name) return state_;
      if (s != Scalar::Null && s != Scalar::String) return fail();
      hintList(stack_[stack_.size() - 2].frame).back() = s == Scalar::String ? SharedName(*text) : SharedName();
      return state_;
  }
  return state_;
}

EndpointsReader::State EndpointsReader::open(bool object) {
  Level& top = stack_.back();
  Frame next = Frame::Skip;
  switch (top.frame) {
    case Frame::Skip: break;
    case Frame::Endpoints:
      if (!object) return fail();
      cur_ = Endpoint{};
      addresses_ = 0;
      next = Frame::Endpoint;
      break;
    case Frame::Endpoint:
      switch (top.key) {
        case Key::Addresses:
          if (object) return fail();
          next = Frame::Addresses;
          break;
        case Key::Conditions:
          if (!object) return fail();
          cur_.ready = cur_.serving = true;
          cur_.terminating = false;
          next = Frame::Conditions;
          break;
        case Key::Hints:
          if (!object) return fail();
          cur_.hints = {};
          next = Frame::Hints;
          break;
        case Key::NodeName:
        case Key::Zone: return fail();
        default: break;
      }
      break;
    case Frame::Addresses:
      if (top.count++ == 0) return fail();
      break;
    case Frame::Conditions:
      if (top.key == Key::Ready || top.key == Key::Serving || top.key == Key::Terminating) return fail();
      break;
    case Frame::Hints:
      if (top.key == Key::ForZones || top.key == Key::ForNodes) {
        if (object) return fail();
        next = top.key == Key::ForZones ? Frame::Zones : Frame::Nodes;
        if (!cur_.hints->zones.empty() || !cur_.hints->nodes.empty()) hintList(next).clear();
      }
      break;
    case Frame::Zones:
    case Frame::Nodes:
      hintList(top.frame).emplace_back();
      if (object) next = Frame::HintItem;
      break;
    case Frame::HintItem:
      if (top.key == Key::Name) return fail();
      break;
  }
  stack_.push_back(Level{next});
  return state_;
}

EndpointsReader::State EndpointsReader::end() {
  Level done = stack_.back();
  stack_.pop_back();
  switch (done.frame) {
    case Frame::Endpoints: return state_ = State::Done;
    case Frame::Endpoint:
      if (addresses_ == 0) return fail();  // "must hold at least one address"
      out_.push_back(std::move(cur_));
      break;
    case Frame::Addresses: addresses_ = done.count; break;
    default: break;
  }
  return state_;
}

bool kindUsed(std::string_view kind) { return kind == "Service" || kind == "EndpointSlice" || kind == "Node"; }

Result<Object> decodeObject(const json& j) {
  if (!j.is_object()) return Error(ErrorCode::InvalidInput, "not a Kubernetes object (expected a mapping)");
  const json* kind = member(j, "kind");
  if (!kind || !kind->is_string()) return Error(ErrorCode::InvalidInput, "object has no \"kind\"");
  std::string k = kind->get<std::string>();
  auto wrap = [](auto r) -> Result<Object> {
    if (!r) return r.error();
    return Object(std::move(r).value());
  };
  if (k == "Service") return wrap(decodeService(j));
  if (k == "EndpointSlice") return wrap(decodeEndpointSlice(j));
  if (k == "Node") return wrap(decodeNode(j));
  return Error(ErrorCode::NotFound, "kind " + k + " is not used by the proxy");
}

std::string describe(const Object& o) {
  struct V {
    std::string operator()(const Service& s) const { return "Service " + s.id.str(); }
    std::string operator()(const EndpointSlice& s) const { return "EndpointSlice " + s.ns + "/" + s.name; }
    std::string operator()(const Node& n) const { return "Node " + n.name; }
  };
  return std::visit(V{}, o);
}

}  // namespace hnsproxy::watch
