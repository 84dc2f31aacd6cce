// Typed HNS (HCN v2) objects and their JSON, both ways (the HNS schema: Virtualization-Documentation
// virtualization/api/hcn/HNS_Schema.md; hcsshim hcn/*.go). Input is
// tolerant: unknown fields are ignored, the empty objects hcsshim sends are accepted, Types may
// be strings or numbers. Output follows HNS: SchemaVersion 2.0, string Types, numeric Flags,
// Protocol and DistributionType, zero values omitted, GUIDs upper-case.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hns/hcn_codes.h"
#include "policy/capabilities.h"
#include "policy/host.h"
#include "hns/file_io.h"
#include "policy/result.h"

namespace hnsproxy::hns {

// A member of an HNS output object, matched case-insensitively as Go's decoder does; nullptr when
// absent or null.
const nlohmann::json* member(const nlohmann::json& obj, std::string_view key);

// GUIDs compare case-insensitively; they are stored upper-case.
std::string normalizeGuid(const std::string& g);
bool isGuid(const std::string& g);

// The IDs an HcnEnumerate* call returns (a JSON list of GUID strings; "null" or "" for none),
// normalized, read without building a document: a node's 100,000 endpoint IDs cost their strings
// alone (the document of them was a verification pass's peak). Elements that are not strings are
// skipped. With `member` set, the list is that member of a root object (the hnssim reply
// {"ok":…,"result":[…]}), and the root's other scalar members are put in `*rest`.
Result<std::vector<std::string>> parseIdList(std::string_view text, std::string_view member = {},
                                             nlohmann::json* rest = nullptr);
inline constexpr const char* kZeroGuid = "00000000-0000-0000-0000-000000000000";

struct HcnPolicy {
  std::string type;
  nlohmann::json settings = nlohmann::json::object();
  friend bool operator==(const HcnPolicy&, const HcnPolicy&) = default;
};

struct HcnNetwork {
  std::string id;
  std::string name;
  std::string type;  // "L2Bridge", "Overlay", "NAT", ...
  std::uint32_t flags = 0;
  std::vector<HcnPolicy> policies;
  nlohmann::json ipams = nlohmann::json::array();
  friend bool operator==(const HcnNetwork&, const HcnNetwork&) = default;
};

struct HcnIpConfig {
  std::string ipAddress;
  std::uint8_t prefixLength = 0;
  friend bool operator==(const HcnIpConfig&, const HcnIpConfig&) = default;
};

struct HcnEndpoint {
  std::string id;
  std::string name;
  std::string network;  // HostComputeNetwork
  std::vector<HcnIpConfig> ipConfigurations;
  std::string macAddress;
  std::uint32_t flags = 0;
  std::vector<HcnPolicy> policies;
  bool isRemote() const { return (flags & hcn::kEndpointFlagRemote) != 0; }
  friend bool operator==(const HcnEndpoint&, const HcnEndpoint&) = default;
};

struct HcnPortMapping {
  std::uint32_t protocol = 0;
  std::uint16_t internalPort = 0;
  std::uint16_t externalPort = 0;
  std::uint32_t distributionType = 0;
  std::uint32_t flags = 0;
  friend bool operator==(const HcnPortMapping&, const HcnPortMapping&) = default;
};

struct HcnLoadBalancer {
  std::string id;
  std::vector<std::string> endpoints;  // HostComputeEndpoints
  std::string sourceVip;
  std::vector<std::string> frontendVips;
  std::vector<HcnPortMapping> portMappings;
  std::uint32_t flags = 0;
  std::string network;  // HostComputeNetwork (schema 2.5+), optional
  friend bool operator==(const HcnLoadBalancer&, const HcnLoadBalancer&) = default;
};

nlohmann::json toJson(const HcnNetwork& n);
nlohmann::json toJson(const HcnEndpoint& e);
nlohmann::json toJson(const HcnLoadBalancer& lb);
// The same documents as text, exactly toJson(x).dump(), written directly (a create sends one per
// object: 114,000 at a cold start on a node of a 1,000-node cluster, where building each as a
// document first was half of the programmer's own CPU).
std::string documentText(const HcnEndpoint& e);
std::string documentText(const HcnLoadBalancer& lb);
Result<HcnNetwork> networkFromJson(const nlohmann::json& j);
Result<HcnEndpoint> endpointFromJson(const nlohmann::json& j);
Result<HcnLoadBalancer> loadBalancerFromJson(const nlohmann::json& j);

// The simulator state file: {"Version":{"Major":M,"Minor":m},"Networks":[…],"Endpoints":[…],
// "LoadBalancers":[…]} with HCN documents as Query returns them.
struct HnsSnapshot {
  policy::HnsVersion version{15, 6};
  std::vector<HcnNetwork> networks;
  std::vector<HcnEndpoint> endpoints;
  std::vector<HcnLoadBalancer> loadBalancers;
  // Not HNS's: the host's network adapters, which the simulator answers hostAdapters() with.
  std::vector<policy::HostAdapter> adapters;
};

Result<HnsSnapshot> snapshotFromJson(const nlohmann::json& j);
nlohmann::json toJson(const HnsSnapshot& s);
// The state file's "HostAdapters" (also hnssim's answer to "adapters").
nlohmann::json toJson(const std::vector<policy::HostAdapter>& adapters);
Result<HnsSnapshot> loadSnapshot(const std::string& path);
Status saveSnapshot(const HnsSnapshot& s, const std::string& path);

}  // namespace hnsproxy::hns
