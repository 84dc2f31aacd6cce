// What the node's HNS can do, derived from its version (the version ranges of hcsshim/hnslib hcn/hcnsupport.go
// and hcnglobals.go). The rules read
// these flags and never compare versions themselves.
#pragma once

#include <cstdint>
#include <string>

namespace hnsproxy::policy {

struct HnsVersion {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  friend auto operator<=>(const HnsVersion&, const HnsVersion&) = default;
  friend bool operator==(const HnsVersion&, const HnsVersion&) = default;
  std::string str() const { return std::to_string(major) + "." + std::to_string(minor); }
};

struct Capabilities {
  HnsVersion version;
  bool apiV2 = false;           // ≥ 9.2; required
  bool remoteSubnet = false;    // ≥ 9.2; required for overlay
  bool dsr = false;             // 9.3–9.x, ≥ 10.2
  bool sessionAffinity = false; // ≥ 12.0
  bool dualStack = false;       // ≥ 11.10
  // In-place HcnModifyLoadBalancer that really changes the backends: 15.5–15.x and ≥ 16.0.
  // HNS 15.4 (Windows Server 2025 RTM) accepts the call and leaves the backends unchanged
  // (kubernetes#131466), so it is excluded here and replaced by delete + create.
  bool modifyLoadBalancer = false;
  // Backends per load balancer: 64 on the first WS2019 builds (kubernetes#98680); 1024 once
  // Windows raised it (WS2019 with the HNS 9.5 servicing stack, WS2022 and later). HNS 10.x and
  // 11.x (1903–2004 semi-annual builds) never got the raise as far as is known: 64.
  std::uint32_t maxBackends = 64;

  static Capabilities fromVersion(HnsVersion v);
  friend bool operator==(const Capabilities&, const Capabilities&) = default;
};

}  // namespace hnsproxy::policy
