#include "policy/capabilities.h"

namespace hnsproxy::policy {

namespace {
bool inRange(HnsVersion v, HnsVersion lo, HnsVersion hi) { return v >= lo && v <= hi; }
constexpr std::uint32_t kAny = 0xffffffffu;
}  // namespace

Capabilities Capabilities::fromVersion(HnsVersion v) {
  Capabilities c;
  c.version = v;
  c.apiV2 = v >= HnsVersion{9, 2};
  c.remoteSubnet = v >= HnsVersion{9, 2};
  c.dsr = inRange(v, {9, 3}, {9, kAny}) || v >= HnsVersion{10, 2};
  c.sessionAffinity = v >= HnsVersion{12, 0};
  c.dualStack = v >= HnsVersion{11, 10};
  c.modifyLoadBalancer = inRange(v, {15, 5}, {15, kAny}) || v >= HnsVersion{16, 0};
  c.maxBackends = (inRange(v, {9, 5}, {9, kAny}) || v >= HnsVersion{12, 0}) ? 1024 : 64;
  return c;
}

}  // namespace hnsproxy::policy
