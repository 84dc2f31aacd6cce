// The HNS IDs behind the policy's names: which load balancer holds each frontend, which endpoint
// carries each backend IP (the CNI's local ones and hnsproxy's own), and which endpoints on the
// network belong to someone else. Shared by the programmer's worker threads and the reconciler:
// every method takes the registry's lock, so any thread may call any of them.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
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
#include "policy/node_pool.h"

namespace hnsproxy::hns {

// An HNS object ID, held compactly: a GUID in its canonical text form (36 characters, hex digits
// of one case) as its 16 bytes — every ID HNS and hnsproxy make — anything else as text on the
// heap. str() gives back exactly the text it was made from. 17 bytes with no alignment: one per
// managed endpoint and load balancer in the registry, and in a verification's sorted lists of
// 100,000 IDs (as strings they were 8 MB of heap; with a pointer member, 32 bytes each).
class HnsId {
 public:
  HnsId() = default;
  HnsId(std::string_view s);  // NOLINT(google-explicit-constructor)
  HnsId(const std::string& s) : HnsId(std::string_view(s)) {}  // NOLINT(google-explicit-constructor)
  HnsId(const char* s) : HnsId(std::string_view(s)) {}          // NOLINT(google-explicit-constructor)
  HnsId(const HnsId& o) : bytes_(o.bytes_), form_(o.form_) {
    if (form_ == kText) setText(new std::string(*o.text()));
  }
  HnsId(HnsId&& o) noexcept : bytes_(o.bytes_), form_(o.form_) {
    o.bytes_ = {};
    o.form_ = 0;
  }
  HnsId& operator=(const HnsId& o) {
    if (this != &o) *this = HnsId(o);
    return *this;
  }
  HnsId& operator=(HnsId&& o) noexcept {
    if (this != &o) {
      release();
      bytes_ = o.bytes_;
      form_ = o.form_;
      o.bytes_ = {};
      o.form_ = 0;
    }
    return *this;
  }
  ~HnsId() { release(); }
  std::string str() const;
  friend bool operator==(const HnsId& a, const HnsId& b) {
    if (a.form_ == kText || b.form_ == kText) return a.form_ == b.form_ && *a.text() == *b.text();
    return a.bytes_ == b.bytes_ && a.form_ == b.form_;
  }
  // An order for sorted indexes (GUIDs by their bytes, before any other text).
  friend bool operator<(const HnsId& a, const HnsId& b) {
    if (a.form_ != kText && b.form_ != kText) return std::tie(a.bytes_, a.form_) < std::tie(b.bytes_, b.form_);
    if (a.form_ != kText || b.form_ != kText) return a.form_ != kText;
    return *a.text() < *b.text();
  }

 private:
  static constexpr std::uint8_t kText = 3;
  // Text that is not a GUID: an owned string whose address is kept in bytes_ (a member pointer
  // would align the whole ID to 8 bytes).
  const std::string* text() const {
    std::string* p = nullptr;
    std::memcpy(static_cast<void*>(&p), bytes_.data(), sizeof p);
    return p;
  }
  void setText(std::string* p) {
    bytes_ = {};
    std::memcpy(bytes_.data(), static_cast<const void*>(&p), sizeof p);
    form_ = kText;
  }
  void release() noexcept {
    if (form_ == kText) delete text();  // NOLINT(cppcoreguidelines-owning-memory): owned, see setText
    form_ = 0;
  }
  std::array<std::uint8_t, 16> bytes_{};
  std::uint8_t form_ = 0;  // 0: empty, 1: GUID in upper case, 2: GUID in lower case, 3: other text
};

// What HNS's enumerates (each sorted) show against the registry: its objects whose IDs HNS no
// longer lists, and listed IDs it does not account for. Only the differences are built (a
// snapshot of every ID the registry holds was 6 MB at a verification's peak).
struct Existence {
  std::vector<std::pair<HnsId, policy::IpAddress>> goneManagedEndpoints;
  std::vector<std::pair<HnsId, policy::LbKey>> goneLoadBalancers;
  std::vector<HnsId> unknownEndpoints;      // sorted; neither managed, local nor foreign
  std::vector<HnsId> unknownLoadBalancers;  // sorted
};

struct IdMaps {
  std::map<policy::LbKey, HnsId> loadBalancers;
  policy::PooledHashMap<policy::IpAddress, HnsId> managedEndpoints;  // remote, service-VIP, source-VIP
  std::unordered_map<policy::IpAddress, std::string> localEndpoints;    // the CNI's (and the root endpoint)
  std::set<std::string> foreignEndpoints;  // remote endpoints on the network that are not hnsproxy's
};

class IdRegistry {
 public:
  IdRegistry();
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
  // `endpoints` and `loadBalancers`: HNS's enumerates, sorted.
  Existence compare(const std::vector<HnsId>& endpoints, const std::vector<HnsId>& loadBalancers) const;
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
  // Two managed endpoints a bucket on average: the bucket array of 100,000 IDs was 1.4 MB at a
  // load of 0.6; a lookup walks one more node.
  static constexpr float kLoadFactor = 2.0F;
  mutable std::mutex mu_;
  IdMaps maps_;
};

}  // namespace hnsproxy::hns
