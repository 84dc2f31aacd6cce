#include "hns/tools/diag.h"
#include "hns/tools/cli.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>

#include <fmt/format.h>

#include "hns/query_all.h"
#include "hns/sim/simulated_hns.h"
#include "hns/sim/socket_api.h"
#include "hns/translate.h"
#include "hns/sim/vfp.h"

#ifdef _WIN32
#include "hns/hcn_api.h"
#endif

namespace hnsproxy::hns {

using nlohmann::json;
using policy::IpAddress;

namespace {

std::string joinStr(const std::vector<std::string>& v, const char* sep = ",") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

void printTable(std::ostream& out, const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> w(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) w[i] = header[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string s;
    for (std::size_t i = 0; i < r.size(); ++i) s += fmt::format("{:<{}}", r[i], i + 1 < r.size() ? w[i] + 2 : 0);
    out << s << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

std::string pa(const std::vector<HcnPolicy>& ps) {
  auto ip = providerAddressOf(ps);
  return ip ? ip->str() : "";
}

int list(const HnsSnapshot& s, const std::string& what, bool asJson, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> netName, epIp, epIp6;
  for (const auto& n : s.networks) netName[n.id] = n.name;
  for (const auto& e : s.endpoints) {
    epIp[e.id] = e.ipConfigurations.empty() ? e.id : e.ipConfigurations[0].ipAddress;
    for (const auto& c : e.ipConfigurations)
      if (c.ipAddress.find(':') != std::string::npos) epIp6[e.id] = c.ipAddress;
  }
  if (what == "networks") {
    if (asJson) {
      json a = json::array();
      for (const auto& n : s.networks) a.push_back(toJson(n));
      out << a.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& n : s.networks) {
      std::vector<std::string> routes;
      for (const auto& r : networkInfoFrom(n).info.remoteSubnets)
        routes.push_back(r.destinationPrefix.str() + "@" + r.providerAddress.str());
      rows.push_back({n.id, n.name, n.type, joinStr(routes)});
    }
    printTable(out, {"ID", "NAME", "TYPE", "REMOTE SUBNETS"}, rows);
    return 0;
  }
  if (what == "endpoints") {
    if (asJson) {
      json a = json::array();
      for (const auto& e : s.endpoints) a.push_back(toJson(e));
      out << a.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : s.endpoints) {
      std::vector<std::string> ips;
      for (const auto& c : e.ipConfigurations) ips.push_back(c.ipAddress);
      rows.push_back({e.id, e.name, netName.count(e.network) ? netName[e.network] : e.network, joinStr(ips),
                      e.macAddress, e.isRemote() ? "remote" : "local", pa(e.policies)});
    }
    printTable(out, {"ID", "NAME", "NETWORK", "IP", "MAC", "LOCALITY", "PA"}, rows);
    return 0;
  }
  if (what == "loadbalancers") {
    if (asJson) {
      json a = json::array();
      for (const auto& l : s.loadBalancers) a.push_back(toJson(l));
      out << a.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : s.loadBalancers) {
      std::vector<std::string> backends;
      bool v6 = (l.flags & hcn::kLbFlagIPv6) != 0;  // an IPv6 load balancer uses the endpoint's IPv6 address
      for (const auto& id : l.endpoints)
        backends.push_back(v6 && epIp6.count(id) ? epIp6[id] : epIp.count(id) ? epIp[id] : id);
      std::string ports, proto;
      std::uint32_t pf = 0, dist = 0;
      if (!l.portMappings.empty()) {
        const auto& pm = l.portMappings[0];
        ports = fmt::format("{}->{}", pm.externalPort, pm.internalPort);
        proto = protocolName(pm.protocol);
        pf = pm.flags;
        dist = pm.distributionType;
      }
      rows.push_back({l.id, l.frontendVips.empty() ? "<node>" : joinStr(l.frontendVips), proto, ports,
                      std::to_string(l.flags), std::to_string(pf), std::to_string(dist), l.sourceVip,
                      joinStr(backends)});
    }
    printTable(out, {"ID", "FRONTEND", "PROTO", "PORTS", "FLAGS", "PORTFLAGS", "DIST", "SOURCEVIP", "BACKENDS"}, rows);
    return 0;
  }
  err << "hnsdiag: list what? networks, endpoints or loadbalancers (not \"" << what << "\")\n";
  return 2;
}

// IP[:PORT] (an IPv6 address with a port in brackets); nullopt when malformed or, with
// portRequired, without a port.
std::optional<std::pair<IpAddress, std::uint16_t>> addressAndPort(const std::string& s, bool portRequired) {
  auto hp = policy::HostPort::parse(s);
  if (!hp || (portRequired && !hp->port)) return std::nullopt;
  auto ip = IpAddress::parse(hp->host);
  if (!ip) return std::nullopt;
  return std::pair{*ip, hp->port.value_or(0)};
}


std::string bitNames(std::uint32_t v, const std::vector<std::pair<std::uint32_t, const char*>>& names) {
  std::string s;
  for (const auto& [bit, name] : names)
    if (v & bit) s += (s.empty() ? "" : "|") + std::string(name);
  return s.empty() ? "None" : s;
}

// One load balancer as a small tree: the frontend, how HNS treats it, each backend (local or
// remote, with its provider address), and the VFP path (hns/vfp.h) of one packet sent to it —
// from the host when the frontend answers there, else from outside the node.
void printTree(const HnsSnapshot& s, const HcnLoadBalancer& lb, const std::vector<IpAddress>& nodeIPs, std::ostream& out) {
  std::map<std::string, const HcnEndpoint*> byId;
  for (const auto& e : s.endpoints) byId[e.id] = &e;
  const bool v6 = (lb.flags & hcn::kLbFlagIPv6) != 0;
  HcnPortMapping pm;
  if (!lb.portMappings.empty()) pm = lb.portMappings[0];
  std::string proto = protocolName(pm.protocol);
  std::string frontend = lb.frontendVips.empty() ? "<node>" : joinStr(lb.frontendVips);
  out << fmt::format("{}:{}/{}  load balancer {}\n", frontend, pm.externalPort, proto, lb.id);
  out << fmt::format("│   flags {}, port flags {}, distribution {}, source VIP {}, to port {}\n",
                     bitNames(lb.flags, {{hcn::kLbFlagDsr, "DSR"}, {hcn::kLbFlagIPv6, "IPv6"}}),
                     bitNames(pm.flags, {{hcn::kPortFlagIlb, "ILB"},
                                         {hcn::kPortFlagLocalRoutedVip, "LocalRoutedVIP"},
                                         {hcn::kPortFlagUseMux, "UseMux"},
                                         {hcn::kPortFlagPreserveDip, "PreserveDIP"},
                                         {hcn::kPortFlagVipExternalIp, "VipExternalIP"}}),
                     pm.distributionType == hcn::kDistributionSourceIpProtocol ? "SourceIPProtocol"
                     : pm.distributionType == hcn::kDistributionSourceIp       ? "SourceIP"
                                                                               : "None",
                     lb.sourceVip.empty() ? "(none)" : lb.sourceVip, pm.internalPort);
  for (std::size_t i = 0; i < lb.endpoints.size(); ++i) {
    const std::string& id = lb.endpoints[i];
    const char* branch = i + 1 < lb.endpoints.size() ? "├── " : "└── ";
    auto it = byId.find(id);
    if (it == byId.end()) {
      out << branch << "(missing endpoint " << id << ")\n";
      continue;
    }
    const HcnEndpoint& e = *it->second;
    std::string addr = e.ipConfigurations.empty() ? "?" : e.ipConfigurations[0].ipAddress;
    for (const auto& c : e.ipConfigurations)
      if (v6 == (c.ipAddress.find(':') != std::string::npos)) addr = c.ipAddress;
    std::string where = e.isRemote() ? "remote" : "local";
    if (auto paIp = providerAddressOf(e.policies)) where += " via " + paIp->str();
    out << fmt::format("{}{:<16} {:<24} endpoint {}\n", branch, addr, where, e.id);
  }
  if (lb.endpoints.empty()) out << "└── (no backends)\n";
  // The path of one packet.
  Packet p;
  p.protocol = pm.protocol;
  p.dstPort = pm.externalPort;
  p.srcPort = 40000;
  const bool fromHost = (pm.flags & hcn::kPortFlagLocalRoutedVip) != 0;
  p.ingress = fromHost ? Ingress::Host : Ingress::External;
  std::optional<IpAddress> dst;
  if (!lb.frontendVips.empty()) dst = IpAddress::parse(lb.frontendVips[0]);
  else
    for (const auto& n : nodeIPs)
      if (n.isV4() != v6) dst = n;
  std::optional<IpAddress> src = fromHost && !nodeIPs.empty() ? std::optional(nodeIPs[0])
                                                               : IpAddress::parse(v6 ? "2001:db8::10" : "192.0.2.10");
  if (!dst || !src || pm.protocol == 1 || pm.protocol == 58) {
    out << "    path: give --node-ip to trace a packet to a node port\n\n";
    return;
  }
  p.srcIp = *src;
  p.dstIp = *dst;
  out << fmt::format("    path of a packet {} {} -> {}:{}:\n", fromHost ? "from the host" : "from outside", src->str(),
                     dst->str(), pm.externalPort);
  auto t = tracePacket(s, nodeIPs, p);
  std::istringstream lines(t.str());
  for (std::string l; std::getline(lines, l);) out << "    " << l << "\n";
  out << "\n";
}

}  // namespace

Result<HnsSnapshot> readAll(Api& api) {
  HnsSnapshot s;
  auto v = api.version();
  if (!v) return v.error();
  s.version = *v;
  auto n = listAll<HcnNetwork>(api, ObjectKind::Network, networkFromJson);
  if (!n) return n.error();
  s.networks = std::move(*n);
  auto e = listAll<HcnEndpoint>(api, ObjectKind::Endpoint, endpointFromJson);
  if (!e) return e.error();
  s.endpoints = std::move(*e);
  auto l = listAll<HcnLoadBalancer>(api, ObjectKind::LoadBalancer, loadBalancerFromJson);
  if (!l) return l.error();
  s.loadBalancers = std::move(*l);
  return s;
}

namespace {

// What every subcommand works with: HNS (or the simulator), what it held when hnsdiag started,
// the command line, and where to write.
struct Command {
  Api& api;
  const HnsSnapshot& snap;
  const ParsedCommandLine& cl;
  const std::vector<std::string>& words;
  std::ostream& out;
  std::ostream& err;
  std::function<int()> save;  // writes a --state file back (0, or 1 on failure)

  std::string opt(const char* name) const { return cl.get<std::string>(name); }
  bool json() const { return opt("output") == "json"; }
  // --node-ip, every one an address.
  std::optional<std::vector<IpAddress>> nodeIps() const {
    std::vector<IpAddress> nodes;
    for (const auto& n : cl.get<std::vector<std::string>>("node-ip")) {
      auto a = IpAddress::parse(n);
      if (!a) {
        err << "hnsdiag: invalid value \"" << n << "\" for --node-ip\n";
        return std::nullopt;
      }
      nodes.push_back(*a);
    }
    return nodes;
  }
};

int showCommand(const Command& c) {
  const std::string& which = c.words[1];
  const std::string id = normalizeGuid(which);
  for (const auto& n : c.snap.networks)
    if (n.id == id || n.name == which) return c.out << toJson(n).dump(2) << "\n", 0;
  for (const auto& e : c.snap.endpoints)
    if (e.id == id) return c.out << toJson(e).dump(2) << "\n", 0;
  for (const auto& l : c.snap.loadBalancers)
    if (l.id == id) return c.out << toJson(l).dump(2) << "\n", 0;
  c.err << "hnsdiag: no network, endpoint or load balancer " << which << "\n";
  return 1;
}

int treeCommand(const Command& c) {
  auto nodes = c.nodeIps();
  if (!nodes) return 2;
  const std::string filter = c.words.size() == 2 ? c.words[1] : "";
  int shown = 0;
  for (const auto& lb : c.snap.loadBalancers) {
    if (!filter.empty()) {
      std::uint16_t port = lb.portMappings.empty() ? 0 : lb.portMappings[0].externalPort;
      bool hit = lb.id == normalizeGuid(filter);
      for (const auto& v : lb.frontendVips.empty() ? std::vector<std::string>{"<node>"} : lb.frontendVips)
        hit = hit || filter == v || filter == v + ":" + std::to_string(port) || filter == "[" + v + "]:" + std::to_string(port);
      if (!hit) continue;
    }
    printTree(c.snap, lb, *nodes, c.out);
    ++shown;
  }
  if (shown == 0 && !filter.empty()) return c.err << "hnsdiag: no load balancer " << filter << "\n", 1;
  return 0;
}

int traceCommand(const Command& c) {
  const std::string src = c.opt("src"), dst = c.opt("dst"), proto = c.opt("proto"), from = c.opt("from");
  const auto source = addressAndPort(src, false), destination = addressAndPort(dst, proto != "icmp");
  if (!source) return c.err << "hnsdiag: invalid value \"" << src << "\" for --src: want IP[:PORT]\n", 2;
  if (!destination) return c.err << "hnsdiag: invalid value \"" << dst << "\" for --dst: want IP:PORT\n", 2;
  Packet p;
  p.srcIp = source->first;
  p.srcPort = source->second ? source->second : 40000;
  p.dstIp = destination->first;
  p.dstPort = destination->second;
  if (proto == "tcp") p.protocol = 6;
  else if (proto == "udp") p.protocol = 17;
  else if (proto == "icmp") p.protocol = 1;
  else return c.err << "hnsdiag: invalid value \"" << proto << "\" for --proto: want tcp, udp or icmp\n", 2;
  if (from == "host") p.ingress = Ingress::Host;
  else if (from == "external") p.ingress = Ingress::External;
  else {
    p.ingress = Ingress::LocalEndpoint;
    p.fromEndpointId = normalizeGuid(from);
  }
  auto nodes = c.nodeIps();
  if (!nodes) return 2;
  auto t = tracePacket(c.snap, *nodes, p);
  if (c.json()) {
    json j{{"delivered", t.delivered}, {"notes", t.notes}, {"remote", t.remote}};
    if (t.loadBalancerId) j["loadBalancer"] = *t.loadBalancerId;
    if (t.backendEndpointId) j["backend"] = *t.backendEndpointId;
    j["out"] = {{"src", t.out.srcIp.str()}, {"srcPort", t.out.srcPort}, {"dst", t.out.dstIp.str()},
                {"dstPort", t.out.dstPort}};
    c.out << j.dump(2) << "\n";
  } else {
    c.out << t.str();
  }
  return t.delivered ? 0 : 1;
}

// Prints the new object's ID, closes its handle, and saves a --state file.
int created(const Command& c, Result<Handle> h) {
  if (!h) return c.err << "hnsdiag: " << h.error().str() << "\n", 1;
  auto props = c.api.query(*h, "");
  c.api.close(*h);
  if (props) c.out << json::parse(*props).value("ID", "") << "\n";
  return c.save();
}

int createNetworkCommand(const Command& c) {
  const std::string name = c.opt("name"), type = c.opt("type"), prefix = c.opt("prefix"), gateway = c.opt("gateway");
  if (name.empty() || type.empty()) return c.err << "hnsdiag: create network needs --name and --type\n", 2;
  json doc{{"Name", name}, {"Type", type}, {"SchemaVersion", {{"Major", 2}, {"Minor", 0}}}};
  if (!prefix.empty()) {
    if (!policy::Cidr::parse(prefix)) return c.err << "hnsdiag: invalid value \"" << prefix << "\" for --prefix\n", 2;
    json subnet{{"IpAddressPrefix", prefix}};
    if (!gateway.empty()) subnet["Routes"] = {{{"NextHop", gateway}, {"DestinationPrefix", "0.0.0.0/0"}}};
    doc["Ipams"] = {{{"Type", "Static"}, {"Subnets", {subnet}}}};
  }
  return created(c, c.api.create(ObjectKind::Network, "", doc.dump(), 0));
}

int createEndpointCommand(const Command& c) {
  const std::string networkName = c.opt("network"), ip = c.opt("ip"), name = c.opt("name"), mac = c.opt("mac");
  if (networkName.empty() || ip.empty()) return c.err << "hnsdiag: create endpoint needs --network and --ip\n", 2;
  if (!IpAddress::parse(ip)) return c.err << "hnsdiag: invalid value \"" << ip << "\" for --ip\n", 2;
  const HcnNetwork* net = nullptr;
  for (const auto& n : c.snap.networks)
    if (n.name == networkName) net = &n;
  if (!net) return c.err << "hnsdiag: no network named " << networkName << "\n", 1;
  auto nh = c.api.open(ObjectKind::Network, net->id);
  if (!nh) return c.err << "hnsdiag: " << nh.error().str() << "\n", 1;
  json doc{{"IpConfigurations", {{{"IpAddress", ip}}}}, {"SchemaVersion", {{"Major", 2}, {"Minor", 0}}}};
  if (!name.empty()) doc["Name"] = name;
  if (!mac.empty()) doc["MacAddress"] = mac;
  if (c.cl.get<bool>("remote")) doc["Flags"] = hcn::kEndpointFlagRemote;
  auto h = c.api.create(ObjectKind::Endpoint, "", doc.dump(), *nh);
  c.api.close(*nh);
  return created(c, std::move(h));
}

int deleteCommand(const Command& c) {
  const std::string& which = c.words[1];
  std::vector<std::pair<ObjectKind, std::string>> victims;
  if (which == "loadbalancers") {
    for (const auto& l : c.snap.loadBalancers) victims.push_back({ObjectKind::LoadBalancer, l.id});
  } else if (which == "endpoints") {
    for (const auto& e : c.snap.endpoints) victims.push_back({ObjectKind::Endpoint, e.id});
  } else {
    std::string id = normalizeGuid(which);
    for (const auto& l : c.snap.loadBalancers)
      if (l.id == id) victims.push_back({ObjectKind::LoadBalancer, id});
    for (const auto& e : c.snap.endpoints)
      if (e.id == id) victims.push_back({ObjectKind::Endpoint, id});
    for (const auto& n : c.snap.networks)
      if (n.id == id) victims.push_back({ObjectKind::Network, id});
    if (victims.empty()) return c.err << "hnsdiag: no object " << which << "\n", 1;
  }
  int failures = 0;
  for (const auto& [kind, id] : victims) {
    auto st = c.api.remove(kind, id);
    if (st) c.out << "deleted " << toString(kind) << " " << id << "\n";
    else {
      c.err << "hnsdiag: delete " << toString(kind) << " " << id << ": " << st.error().str() << "\n";
      ++failures;
    }
  }
  int saved = c.save();
  return failures ? 1 : saved;
}

}  // namespace

int runHnsdiag(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description options("options");
  options.add_options()  //
      ("help,h", "print this help")
      ("state", po::value<std::string>(), "simulator state file")
      ("socket", po::value<std::string>(), "hnssim socket")
      ("output,o", po::value<std::string>()->default_value("table"), "table or json")
      ("name", po::value<std::string>(), "object name")
      ("type", po::value<std::string>(), "network type")
      ("prefix", po::value<std::string>(), "network subnet CIDR")
      ("gateway", po::value<std::string>(), "subnet gateway")
      ("network", po::value<std::string>(), "network name (create endpoint)")
      ("ip", po::value<std::string>(), "endpoint IP")
      ("mac", po::value<std::string>(), "endpoint MAC")
      ("remote", po::bool_switch(), "create a remote endpoint")
      ("src", po::value<std::string>(), "trace: source IP[:port]")
      ("dst", po::value<std::string>(), "trace: destination IP:port")
      ("proto", po::value<std::string>()->default_value("tcp"), "trace: tcp, udp or icmp")
      ("from", po::value<std::string>()->default_value("external"), "trace: host, external or an endpoint ID")
      ("node-ip", po::value<std::vector<std::string>>(), "trace, tree: a node address (repeatable)");
  auto parsed = parseCommandLine("hnsdiag", options, args);
  if (!parsed) {
    err << parsed.error().message << "\n";
    return 2;
  }
  const ParsedCommandLine& cl = *parsed;
  const std::string state = cl.get<std::string>("state"), socket = cl.get<std::string>("socket"),
                    output = cl.get<std::string>("output");
  const std::vector<std::string>& words = cl.words;
  if (cl.has("help") || words.empty()) {
    (words.empty() && !cl.has("help") ? err : out)
        << "usage: hnsdiag [--state FILE | --socket PATH] [-o table|json] list networks|endpoints|loadbalancers | "
           "show ID | tree [ID|VIP|VIP:PORT] [--node-ip IP] | trace --src IP[:PORT] --dst IP:PORT [--proto P] [--from host|external|ID] [--node-ip IP] | "
           "create network --name N --type T [--prefix CIDR --gateway IP] | create endpoint --network N --ip IP "
           "[--name N] [--mac M] [--remote] | delete loadbalancers|endpoints|ID\n"
        << optionsHelp(options);
    return cl.has("help") ? 0 : 2;
  }
  if (output != "table" && output != "json") {
    err << "hnsdiag: invalid value \"" << output << "\" for --output: want table or json\n";
    return 2;
  }
  std::unique_ptr<SimulatedHns> sim;
  std::unique_ptr<Api> remote;
  Api* api = nullptr;
  if (!state.empty() && !socket.empty()) {
    err << "hnsdiag: give --state or --socket, not both\n";
    return 2;
  }
  if (!state.empty()) {
    HnsSnapshot snap;
    if (std::filesystem::exists(state)) {
      auto loaded = loadSnapshot(state);
      if (!loaded) {
        err << "hnsdiag: " << loaded.error().message << "\n";
        return 1;
      }
      snap = std::move(*loaded);
    }
    sim = std::make_unique<SimulatedHns>(snap);
    api = sim.get();
  } else if (!socket.empty()) {
    auto client = connectToSimulator(socket);
    if (!client) {
      err << "hnsdiag: " << client.error().message << "\n";
      return 2;
    }
    remote = std::move(client).value();
    api = remote.get();
  } else {
#ifdef _WIN32
    auto hcn = makeHcnApi();
    if (!hcn) {
      err << "hnsdiag: " << hcn.error().message << "\n";
      return 1;
    }
    remote = std::move(hcn).value();
    api = remote.get();
#else
    err << "hnsdiag: give --state FILE or --socket PATH (the real HNS exists only on Windows)\n";
    return 2;
#endif
  }
  auto save = [&]() -> int {
    if (!sim) return 0;
    if (auto st = saveSnapshot(sim->snapshot(), state); !st) {
      err << "hnsdiag: " << st.error().message << "\n";
      return 1;
    }
    return 0;
  };
  auto snap = readAll(*api);
  if (!snap) {
    err << "hnsdiag: " << snap.error().str() << "\n";
    return 1;
  }
  const Command c{*api, *snap, cl, words, out, err, save};
  const std::string& cmd = words[0];
  const std::string what = words.size() > 1 ? words[1] : "";
  if (cmd == "list" && words.size() == 2) return list(*snap, what, output == "json", out, err);
  if (cmd == "show" && words.size() == 2) return showCommand(c);
  if (cmd == "tree" && words.size() <= 2) return treeCommand(c);
  if (cmd == "trace" && words.size() == 1) return traceCommand(c);
  if (cmd == "create" && words.size() == 2 && what == "network") return createNetworkCommand(c);
  if (cmd == "create" && words.size() == 2 && what == "endpoint") return createEndpointCommand(c);
  if (cmd == "delete" && words.size() == 2) return deleteCommand(c);
  err << "hnsdiag: unknown command \"" << joinStr(words, " ") << "\" (try --help)\n";
  return 2;
}

}  // namespace hnsproxy::hns
