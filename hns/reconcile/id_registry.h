// The HNS IDs behind the policy's names: which load balancer holds each frontend, which endpoint
// carries each backend IP (the CNI's local ones and hnsproxy's own), and which endpoints on the
// network belong to someone else. Shared by the programmer's worker threads and the reconciler:
// every method takes the registry's lock, so any thread may call any of them.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "policy/desired.h"

namespace hnsproxy::hns {

// An HNS object ID, held compactly: a GUID in its canonical text form (36 characters, hex digits
// of one case) as its 16 bytes — every ID HNS and hnsproxy make — anything else as text. str()
// gives back exactly the text it was made from. One per managed endpoint and load balancer:
// 100,000 IDs as strings were 8 MB of heap on a node of a 1,000-node cluster.
class HnsId {
 public:
  HnsId() = default;
  HnsId(std::string_view s);  // NOLINT(google-explicit-constructor)
  HnsId(const std::string& s) : HnsId(std::string_view(s)) {}  // NOLINT(google-explicit-constructor)
  HnsId(const char* s) : HnsId(std::string_view(s)) {}          // NOLINT(google-explicit-constructor)
  HnsId(const HnsId& o) : bytes_(o.bytes_), form_(o.form_), text_(o.text_ ? std::make_unique<std::string>(*o.text_) : nullptr) {}
  HnsId(HnsId&&) noexcept = default;
  HnsId& operator=(const HnsId& o) {
    if (this != &o) *this = HnsId(o);
    return *this;
  }
  HnsId& operator=(HnsId&&) noexcept = default;
  ~HnsId() = default;
  std::string str() const;
  friend bool operator==(const HnsId& a, const HnsId& b) {
    if (a.text_ || b.text_) return a.text_ && b.text_ && *a.text_ == *b.text_;
    return a.bytes_ == b.bytes_ && a.form_ == b.form_;
  }
  // An order for sorted indexes (GUIDs by their bytes, before any other text).
  friend bool operator<(const HnsId& a, const HnsId& b) {
    if (!a.text_ && !b.text_) return std::tie(a.bytes_, a.form_) < std::tie(b.bytes_, b.form_);
    if (!a.text_ || !b.text_) return !a.text_;
    return *a.text_ < *b.text_;
  }

 private:
  std::array<std::uint8_t, 16> bytes_{};
  std::uint8_t form_ = 0;  // 0: empty, 1: GUID in upper case, 2: GUID in lower case
  std::unique_ptr<std::string> text_;
};

// Every ID the registry holds, each with what it names, sorted by ID (for a verification pass that
// compares HNS's enumerates with the record). A snapshot: built per pass, not kept.
struct KnownIds {
  std::vector<std::pair<HnsId, policy::LbKey>> loadBalancers;
  std::vector<std::pair<HnsId, policy::IpAddress>> managedEndpoints;
  std::vector<std::pair<HnsId, policy::IpAddress>> localEndpoints;  // an ID once per address
  std::vector<HnsId> foreignEndpoints;
  // Whether `id` is among `v`'s IDs.
  template <typename V>
  static bool has(const V& v, const HnsId& id) {
    auto it = std::lower_bound(v.begin(), v.end(), id, [](const auto& e, const HnsId& x) { return idOf(e) < x; });
    return it != v.end() && idOf(*it) == id;
  }

 private:
  template <typename P>
  static const HnsId& idOf(const P& p) { return p.first; }
  static const HnsId& idOf(const HnsId& h) { return h; }
};

struct IdMaps {
  std::map<policy::LbKey, HnsId> loadBalancers;
  std::unordered_map<policy::IpAddress, HnsId> managedEndpoints;  // remote, service-VIP, source-VIP
  std::unordered_map<policy::IpAddress, std::string> localEndpoints;    // the CNI's (and the root endpoint)
  std::set<std::string> foreignEndpoints;  // remote endpoints on the network that are not hnsproxy's
};

class IdRegistry {
 public:
  void reset(IdMaps maps);

  std::optional<std::string> loadBalancer(const policy::LbKey& key) const;
  void setLoadBalancer(const policy::LbKey& key, const std::string& id);
  void eraseLoadBalancer(const policy::LbKey& key);

  std::optional<std::string> managedEndpoint(const policy::IpAddress& ip) const;
  void setManagedEndpoint(const policy::IpAddress& ip, const std::string& id);
  void eraseManagedEndpoint(const policy::IpAddress& ip);

  // The endpoint a load balancer uses for a backend IP. A local endpoint wins over a remote one
  // with the same IP: the desired state never keeps a remote endpoint for an IP HNS holds
  // locally, and a stale remote duplicate must not capture traffic (kubernetes#138000).
  std::optional<std::string> backend(const policy::IpAddress& ip) const;

  // Local endpoints learned since the listing: those whose ID is no longer present go, `fresh`
  // ones (ID → addresses) are added. Remote endpoints among `freshForeign` are someone else's.
  void updateLocal(const std::set<std::string>& present,
                   const std::vector<std::pair<std::string, std::vector<policy::IpAddress>>>& freshLocal,
                   const std::vector<std::string>& freshForeign);
  // Every endpoint ID the registry accounts for (local, managed, foreign).
  std::unordered_set<std::string> knownEndpointIds() const;
  KnownIds known() const;
  // Foreign endpoints: remote endpoints on the network that are not hnsproxy's to use (duplicates
  // being deleted).
  void addForeignEndpoint(const std::string& id);
  // A local endpoint (the CNI's) found since the listing.
  void addLocalEndpoint(const std::string& id, const std::vector<policy::IpAddress>& ips);
  // Local and foreign endpoints whose ID is not in `present` (sorted) are gone: dropped. Returns
  // whether a local one went.
  bool keepEndpointIds(const std::vector<HnsId>& present);
  // Every endpoint ID with its addresses (to read load balancers back in policy terms).
  std::map<std::string, std::vector<policy::IpAddress>> endpointAddresses() const;

 private:
  mutable std::mutex mu_;
  IdMaps maps_;
};

}  // namespace hnsproxy::hns
