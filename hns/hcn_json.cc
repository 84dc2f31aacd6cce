#include "hns/hcn_json.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "policy/desired.h"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include "hns/utf16.h"
#endif

namespace hnsproxy::hns {

using nlohmann::json;

// HNS output is read the way Go's encoding/json (hcsshim) reads it: keys match case-insensitively,
// so a casing difference between HNS builds never silently empties a field. The exact key is
// tried first; the scan runs only when it is absent.
const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(std::string(key));
  if (it == j.end()) {
    for (auto k = j.begin(); k != j.end(); ++k)
      if (k.key().size() == key.size() &&
          std::equal(key.begin(), key.end(), k.key().begin(), [](char a, char b) {
            // cppcheck-suppress CastIntegerToAddressAtReturn ; a bool-returning lambda inside a pointer-returning function
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        it = k;
        break;
      }
  }
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string normalizeGuid(const std::string& g) {
  std::string out = g;
  if (out.size() == 38 && out.front() == '{' && out.back() == '}') out = out.substr(1, 36);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

namespace {

// SAX events of an ID list: strings at the list's depth are kept, everything else skipped.
class IdListReader : public nlohmann::json_sax<json> {
 public:
  IdListReader(std::string_view member, json* rest) : member_(member), rest_(rest) {}
  std::vector<std::string> ids;
  bool sawList = false;
  bool sawNull = false;  // the list is null: hcsshim reads "null" as no objects

  bool null() override {
    if (member_.empty() ? depth_ == 0 : depth_ == 1 && key_ == member_) sawNull = true;
    return scalar(nullptr);
  }
  bool boolean(bool v) override { return scalar(v); }
  bool number_integer(number_integer_t v) override { return scalar(v); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(v); }
  bool number_float(number_float_t v, const string_t&) override { return scalar(v); }
  bool string(string_t& v) override {
    if (!inList()) return scalar(std::move(v));
    ids.push_back(normalizeGuid(v));  // an ID: nothing else to keep (no value built per ID)
    return true;
  }
  bool binary(binary_t&) override { return scalar(nullptr); }
  bool start_object(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  // The list is the root array, or the root object's `member_`; its elements are one level down.
  bool inList() const { return listDepth_ != 0 && depth_ == listDepth_; }
  bool scalar(json v) {
    if (depth_ == 1 && !member_.empty() && rest_ && key_ != member_) (*rest_)[key_] = std::move(v);
    return true;
  }
  bool open(bool array) {
    ++depth_;
    if (array && listDepth_ == 0 && (member_.empty() ? depth_ == 1 : depth_ == 2 && key_ == member_)) {
      listDepth_ = depth_;
      sawList = true;
    }
    return true;
  }
  bool close() {
    if (depth_ == listDepth_) listDepth_ = 0;
    --depth_;
    return true;
  }
  std::string_view member_;
  json* rest_;
  std::string key_;
  int depth_ = 0;
  int listDepth_ = 0;
};

}  // namespace

Result<std::vector<std::string>> parseIdList(std::string_view text, std::string_view member, json* rest) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::vector<std::string>{};
  IdListReader r(member, rest);
  // Room for as many GUIDs as the text can hold ("…", 39 characters each): exact for HNS's lists,
  // never more than the text's own size whatever it holds.
  r.ids.reserve(text.size() / 39 + 1);
  if (!json::sax_parse(text.begin(), text.end(), &r)) return Error(ErrorCode::Transient, "the list of IDs is not JSON");
  if (!r.sawList && !r.sawNull) return Error(ErrorCode::Transient, "the list of IDs is not a list");
  return std::move(r.ids);
}

bool isGuid(const std::string& g) {
  std::string s = normalizeGuid(g);
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

namespace {

struct BadField {
  std::string field, reason;
};

json schemaVersion() { return json{{"Major", 2}, {"Minor", 0}}; }

const json* get(const json& j, const char* key) { return member(j, key); }

std::string str(const json& j, const char* key) {
  const json* v = get(j, key);
  if (!v) return "";
  if (!v->is_string()) throw BadField{key, "must be a string"};
  return v->get<std::string>();
}

std::uint64_t num(const json& j, const char* key, std::uint64_t max) {
  const json* v = get(j, key);
  if (!v) return 0;
  if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<std::int64_t>() >= 0))
    throw BadField{key, "must be a non-negative integer"};
  std::uint64_t n = v->get<std::uint64_t>();
  if (n > max) throw BadField{key, fmt::format("must be at most {}", max)};
  return n;
}

std::string guid(const json& j, const char* key) {
  std::string g = str(j, key);
  if (g.empty()) return g;
  if (!isGuid(g)) throw BadField{key, "not a GUID: " + g};
  return normalizeGuid(g);
}

// Network types as strings; older callers send the enum number.
std::string networkType(const json& j) {
  const json* v = get(j, "Type");
  if (!v) return "NAT";  // HNS omits Type for NAT (value 0)
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number_integer()) {
    static const char* kNames[] = {"NAT", "ICS", "Transparent", "L2Bridge", "L2Tunnel", "Overlay", "Private", "Internal"};
    auto n = v->get<std::int64_t>();
    if (n >= 0 && n < 8) return kNames[n];
  }
  throw BadField{"Type", "unknown network type " + v->dump()};
}

std::vector<HcnPolicy> policies(const json& j) {
  std::vector<HcnPolicy> out;
  const json* v = get(j, "Policies");
  if (!v) return out;
  if (!v->is_array()) throw BadField{"Policies", "must be a list"};
  for (const auto& p : *v) {
    if (!p.is_object()) throw BadField{"Policies", "each policy must be an object"};
    HcnPolicy pol;
    const json* t = get(p, "Type");
    if (!t) throw BadField{"Policies[].Type", "is required"};
    pol.type = t->is_string() ? t->get<std::string>() : t->dump();
    if (const json* s = get(p, "Settings")) pol.settings = *s;
    out.push_back(std::move(pol));
  }
  return out;
}

json policiesJson(const std::vector<HcnPolicy>& ps) {
  json a = json::array();
  for (const auto& p : ps) a.push_back(json{{"Type", p.type}, {"Settings", p.settings}});
  return a;
}

template <typename T, typename F>
Result<T> guarded(const char* what, const json& j, F&& f) {
  if (!j.is_object()) return Error(ErrorCode::InvalidArgument, std::string(what) + ": the document is not a JSON object");
  try {
    return f();
  } catch (const BadField& e) {
    return Error(ErrorCode::InvalidArgument, fmt::format("{}: field {}: {}", what, e.field, e.reason));
  } catch (const json::exception& e) {
    return Error(ErrorCode::InvalidArgument, fmt::format("{}: {}", what, e.what()));
  }
}

}  // namespace

json toJson(const HcnNetwork& n) {
  json j;
  if (!n.id.empty()) j["ID"] = n.id;
  if (!n.name.empty()) j["Name"] = n.name;
  if (n.type != "NAT") j["Type"] = n.type;
  if (!n.policies.empty()) j["Policies"] = policiesJson(n.policies);
  if (!n.ipams.empty()) j["Ipams"] = n.ipams;
  if (n.flags) j["Flags"] = n.flags;
  j["SchemaVersion"] = schemaVersion();
  return j;
}

json toJson(const HcnEndpoint& e) {
  json j;
  if (!e.id.empty()) j["ID"] = e.id;
  if (!e.name.empty()) j["Name"] = e.name;
  if (!e.network.empty()) j["HostComputeNetwork"] = e.network;
  if (!e.policies.empty()) j["Policies"] = policiesJson(e.policies);
  if (!e.ipConfigurations.empty()) {
    json a = json::array();
    for (const auto& c : e.ipConfigurations) {
      json cj{{"IpAddress", c.ipAddress}};
      if (c.prefixLength) cj["PrefixLength"] = c.prefixLength;
      a.push_back(cj);
    }
    j["IpConfigurations"] = a;
  }
  if (!e.macAddress.empty()) j["MacAddress"] = e.macAddress;
  if (e.flags) j["Flags"] = e.flags;
  j["SchemaVersion"] = schemaVersion();
  return j;
}

json toJson(const HcnLoadBalancer& lb) {
  json j;
  if (!lb.id.empty()) j["ID"] = lb.id;
  if (!lb.endpoints.empty()) j["HostComputeEndpoints"] = lb.endpoints;
  if (!lb.sourceVip.empty()) j["SourceVIP"] = lb.sourceVip;
  if (!lb.frontendVips.empty()) j["FrontendVIPs"] = lb.frontendVips;
  if (!lb.portMappings.empty()) {
    json a = json::array();
    for (const auto& pm : lb.portMappings) {
      json p;
      if (pm.protocol) p["Protocol"] = pm.protocol;
      if (pm.internalPort) p["InternalPort"] = pm.internalPort;
      if (pm.externalPort) p["ExternalPort"] = pm.externalPort;
      if (pm.distributionType) p["DistributionType"] = pm.distributionType;
      if (pm.flags) p["Flags"] = pm.flags;
      a.push_back(p.is_null() ? json::object() : p);
    }
    j["PortMappings"] = a;
  }
  if (lb.flags) j["Flags"] = lb.flags;
  if (!lb.network.empty()) j["HostComputeNetwork"] = lb.network;
  j["SchemaVersion"] = schemaVersion();
  return j;
}

namespace {

// A JSON object written key by key, keys in nlohmann's order (sorted: its objects are std::maps),
// values as its dump() writes them. Text that dump() would escape past the plain cases (control
// characters, bytes outside ASCII: names from elsewhere) is not written here: plain() says so and
// the caller dumps the document the slow way.
class DocWriter {
 public:
  explicit DocWriter(std::string& out) : out_(out) {}
  static bool plain(std::string_view v) {
    return std::all_of(v.begin(), v.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
    });
  }
  void open() { out_ += '{'; first_ = true; }
  void close() { out_ += '}'; first_ = false; }
  void key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += k;
    out_ += "\":";
  }
  void string(std::string_view v) {
    out_ += '"';
    out_ += v;
    out_ += '"';
  }
  void number(std::uint64_t v) { out_ += std::to_string(v); }
  void field(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  void field(std::string_view k, std::uint64_t v) {
    key(k);
    number(v);
  }
  // An array under `k`, each element written by `item`.
  template <typename T, typename F>
  void array(std::string_view k, const std::vector<T>& v, F item) {
    key(k);
    out_ += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out_ += ',';
      item(v[i]);
    }
    out_ += ']';
  }
  // An array of objects under `k`, each object's fields written by `fields(writer, element)`.
  template <typename T, typename F>
  void objects(std::string_view k, const std::vector<T>& v, F fields) {
    array(k, v, [&](const T& x) {
      DocWriter o(out_);
      o.open();
      fields(o, x);
      o.close();
    });
  }
  void strings(std::string_view k, const std::vector<std::string>& v) {
    array(k, v, [&](const std::string& x) { string(x); });
  }
  void raw(std::string_view k, const std::string& text) {
    key(k);
    out_ += text;
  }
  void schemaVersion() { raw("SchemaVersion", R"({"Major":2,"Minor":0})"); }

 private:
  std::string& out_;
  bool first_ = true;
};

bool allPlain(std::initializer_list<std::string_view> v) {
  return std::all_of(v.begin(), v.end(), [](std::string_view x) { return DocWriter::plain(x); });
}

}  // namespace

std::string documentText(const HcnEndpoint& e) {
  bool plain = allPlain({e.id, e.name, e.network, e.macAddress});
  for (const auto& c : e.ipConfigurations) plain = plain && DocWriter::plain(c.ipAddress);
  for (const auto& p : e.policies) plain = plain && DocWriter::plain(p.type);
  if (!plain) return toJson(e).dump();
  std::string out;
  out.reserve(256);
  DocWriter w(out);
  w.open();
  if (e.flags) w.field("Flags", e.flags);
  if (!e.network.empty()) w.field("HostComputeNetwork", e.network);
  if (!e.id.empty()) w.field("ID", e.id);
  if (!e.ipConfigurations.empty())
    w.objects("IpConfigurations", e.ipConfigurations, [](DocWriter& c, const HcnIpConfig& ip) {
      c.field("IpAddress", ip.ipAddress);
      if (ip.prefixLength) c.field("PrefixLength", ip.prefixLength);
    });
  if (!e.macAddress.empty()) w.field("MacAddress", e.macAddress);
  if (!e.name.empty()) w.field("Name", e.name);
  if (!e.policies.empty()) w.raw("Policies", policiesJson(e.policies).dump());  // settings are free-form: nlohmann's
  w.schemaVersion();
  w.close();
  return out;
}

std::string documentText(const HcnLoadBalancer& lb) {
  bool plain = allPlain({lb.id, lb.sourceVip, lb.network});
  for (const auto& v : {&lb.endpoints, &lb.frontendVips})
    for (const auto& x : *v) plain = plain && DocWriter::plain(x);
  if (!plain) return toJson(lb).dump();
  std::string out;
  out.reserve(200 + 40 * lb.endpoints.size());
  DocWriter w(out);
  w.open();
  if (lb.flags) w.field("Flags", lb.flags);
  if (!lb.frontendVips.empty()) w.strings("FrontendVIPs", lb.frontendVips);
  if (!lb.endpoints.empty()) w.strings("HostComputeEndpoints", lb.endpoints);
  if (!lb.network.empty()) w.field("HostComputeNetwork", lb.network);
  if (!lb.id.empty()) w.field("ID", lb.id);
  if (!lb.portMappings.empty())
    w.objects("PortMappings", lb.portMappings, [](DocWriter& p, const HcnPortMapping& pm) {
      if (pm.distributionType) p.field("DistributionType", pm.distributionType);
      if (pm.externalPort) p.field("ExternalPort", pm.externalPort);
      if (pm.flags) p.field("Flags", pm.flags);
      if (pm.internalPort) p.field("InternalPort", pm.internalPort);
      if (pm.protocol) p.field("Protocol", pm.protocol);
    });
  w.schemaVersion();
  if (!lb.sourceVip.empty()) w.field("SourceVIP", lb.sourceVip);
  w.close();
  return out;
}

Result<HcnNetwork> networkFromJson(const json& j) {
  return guarded<HcnNetwork>("HostComputeNetwork", j, [&]() -> Result<HcnNetwork> {
    HcnNetwork n;
    n.id = guid(j, "ID");
    n.name = str(j, "Name");
    n.type = networkType(j);
    n.flags = static_cast<std::uint32_t>(num(j, "Flags", 0xffffffffu));
    n.policies = policies(j);
    if (const json* ip = get(j, "Ipams")) n.ipams = *ip;
    return n;
  });
}

Result<HcnEndpoint> endpointFromJson(const json& j) {
  return guarded<HcnEndpoint>("HostComputeEndpoint", j, [&]() -> Result<HcnEndpoint> {
    HcnEndpoint e;
    e.id = guid(j, "ID");
    e.name = str(j, "Name");
    e.network = guid(j, "HostComputeNetwork");
    e.macAddress = str(j, "MacAddress");
    e.flags = static_cast<std::uint32_t>(num(j, "Flags", 0xffffffffu));
    e.policies = policies(j);
    if (const json* cfgs = get(j, "IpConfigurations")) {
      if (!cfgs->is_array()) throw BadField{"IpConfigurations", "must be a list"};
      for (const auto& c : *cfgs) {
        if (!c.is_object()) throw BadField{"IpConfigurations", "each entry must be an object"};
        e.ipConfigurations.push_back({str(c, "IpAddress"), static_cast<std::uint8_t>(num(c, "PrefixLength", 128))});
      }
    }
    return e;
  });
}

Result<HcnLoadBalancer> loadBalancerFromJson(const json& j) {
  return guarded<HcnLoadBalancer>("HostComputeLoadBalancer", j, [&]() -> Result<HcnLoadBalancer> {
    HcnLoadBalancer lb;
    lb.id = guid(j, "ID");
    lb.sourceVip = str(j, "SourceVIP");
    lb.flags = static_cast<std::uint32_t>(num(j, "Flags", 0xffffffffu));
    lb.network = guid(j, "HostComputeNetwork");
    if (const json* eps = get(j, "HostComputeEndpoints")) {
      if (!eps->is_array()) throw BadField{"HostComputeEndpoints", "must be a list"};
      for (const auto& e : *eps) {
        if (!e.is_string() || !isGuid(e.get<std::string>()))
          throw BadField{"HostComputeEndpoints", "each entry must be a GUID string"};
        lb.endpoints.push_back(normalizeGuid(e.get<std::string>()));
      }
    }
    if (const json* v = get(j, "FrontendVIPs")) {
      if (!v->is_array()) throw BadField{"FrontendVIPs", "must be a list"};
      for (const auto& e : *v) {
        if (!e.is_string()) throw BadField{"FrontendVIPs", "each entry must be a string"};
        lb.frontendVips.push_back(e.get<std::string>());
      }
    }
    if (const json* pms = get(j, "PortMappings")) {
      if (!pms->is_array()) throw BadField{"PortMappings", "must be a list"};
      for (const auto& p : *pms) {
        if (!p.is_object()) throw BadField{"PortMappings", "each entry must be an object"};
        HcnPortMapping pm;
        pm.protocol = static_cast<std::uint32_t>(num(p, "Protocol", 255));
        pm.internalPort = static_cast<std::uint16_t>(num(p, "InternalPort", 65535));
        pm.externalPort = static_cast<std::uint16_t>(num(p, "ExternalPort", 65535));
        pm.distributionType = static_cast<std::uint32_t>(num(p, "DistributionType", 2));
        pm.flags = static_cast<std::uint32_t>(num(p, "Flags", 0xffffffffu));
        lb.portMappings.push_back(pm);
      }
    }
    return lb;
  });
}

namespace {

// {"Name":"Ethernet","MacAddress":"00-15-5D-2C-0A-01","IpAddresses":["10.0.0.4"]}
Result<policy::HostAdapter> adapterFromJson(const json& j) {
  if (!j.is_object()) return Error(ErrorCode::InvalidInput, "an adapter must be an object");
  policy::HostAdapter a;
  if (const json* n = get(j, "Name"); n && n->is_string()) a.name = n->get<std::string>();
  const json* mac = get(j, "MacAddress");
  if (!mac || !mac->is_string()) return Error(ErrorCode::InvalidInput, "MacAddress (a string) is required");
  a.mac = policy::MacText(mac->get<std::string>()).str();
  if (const json* ips = get(j, "IpAddresses")) {
    if (!ips->is_array()) return Error(ErrorCode::InvalidInput, "IpAddresses must be a list");
    for (const auto& ip : *ips) {
      auto parsed = ip.is_string() ? policy::IpAddress::parse(ip.get<std::string>()) : std::nullopt;
      if (!parsed) return Error(ErrorCode::InvalidInput, "IpAddresses: " + ip.dump() + " is not an IP address");
      a.ips.push_back(*parsed);
    }
  }
  return a;
}

}  // namespace

Result<HnsSnapshot> snapshotFromJson(const json& j) {
  if (!j.is_object()) return Error(ErrorCode::InvalidInput, "HNS state: the document is not a JSON object");
  HnsSnapshot s;
  if (const json* v = get(j, "Version")) {
    if (!v->is_object()) return Error(ErrorCode::InvalidInput, "HNS state: Version must be {\"Major\":M,\"Minor\":m}");
    try {
      s.version.major = static_cast<std::uint32_t>(num(*v, "Major", 1000));
      s.version.minor = static_cast<std::uint32_t>(num(*v, "Minor", 1000));
    } catch (const BadField& e) {
      return Error(ErrorCode::InvalidInput, "HNS state: Version." + e.field + " " + e.reason);
    }
  }
  auto each = [&](const char* key, auto parse, auto& out) -> Status {
    const json* arr = get(j, key);
    if (!arr) return Ok{};
    if (!arr->is_array()) return Error(ErrorCode::InvalidInput, std::string("HNS state: ") + key + " must be a list");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      auto r = parse((*arr)[i]);
      if (!r) return Error(ErrorCode::InvalidInput, fmt::format("HNS state: {}[{}]: {}", key, i, r.error().message));
      out.push_back(std::move(r).value());
    }
    return Ok{};
  };
  if (auto st = each("Networks", networkFromJson, s.networks); !st) return st.error();
  if (auto st = each("Endpoints", endpointFromJson, s.endpoints); !st) return st.error();
  if (auto st = each("LoadBalancers", loadBalancerFromJson, s.loadBalancers); !st) return st.error();
  if (auto st = each("HostAdapters", adapterFromJson, s.adapters); !st) return st.error();
  return s;
}

json toJson(const HnsSnapshot& s) {
  json j;
  j["Version"] = json{{"Major", s.version.major}, {"Minor", s.version.minor}};
  j["Networks"] = json::array();
  for (const auto& n : s.networks) j["Networks"].push_back(toJson(n));
  j["Endpoints"] = json::array();
  for (const auto& e : s.endpoints) j["Endpoints"].push_back(toJson(e));
  j["LoadBalancers"] = json::array();
  for (const auto& lb : s.loadBalancers) j["LoadBalancers"].push_back(toJson(lb));
  if (!s.adapters.empty()) j["HostAdapters"] = toJson(s.adapters);
  return j;
}

json toJson(const std::vector<policy::HostAdapter>& adapters) {
  json out = json::array();
  for (const auto& a : adapters) {
    json ips = json::array();
    for (const auto& ip : a.ips) ips.push_back(ip.str());
    out.push_back(json{{"Name", a.name}, {"MacAddress", a.mac}, {"IpAddresses", ips}});
  }
  return out;
}

Result<HnsSnapshot> loadSnapshot(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::NotFound, "HNS state file " + path + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    return Error(ErrorCode::InvalidInput, "HNS state file " + path + ": invalid JSON: " + e.what());
  }
  auto r = snapshotFromJson(j);
  if (!r) return Error(r.error().code, path + ": " + r.error().message);
  return r;
}

Status saveSnapshot(const HnsSnapshot& s, const std::string& path) {
  return writeFileAtomically(path, toJson(s).dump(2) + "\n");
}

}  // namespace hnsproxy::hns
