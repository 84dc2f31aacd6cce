#include "policy/model.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>

namespace hnsproxy::policy {

// The table: texts by value, each with the number of handles naming it. A handle is copied by
// counting up without the lock (the copy's source keeps the count above zero); the count reaches
// zero only under the lock, where a lookup would count it up again, so an entry is erased only
// when no handle and no lookup can reach it.
struct SharedName::Entry {
  std::atomic<std::uint32_t> refs{1};
  std::string text;
};

namespace {
struct NameTable {
  std::mutex mu;
  std::unordered_map<std::string_view, SharedName::Entry*> entries;  // keys view the entries' text
};
NameTable& nameTable() {
  static auto* t = new NameTable;  // never destroyed: handles in static objects outlive main
  return *t;
}
void retain(SharedName::Entry* e) {
  if (e) e->refs.fetch_add(1, std::memory_order_relaxed);
}
void release(SharedName::Entry* e) {
  if (!e) return;
  auto n = e->refs.load(std::memory_order_relaxed);
  while (n > 1)
    if (e->refs.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel)) return;
  NameTable& t = nameTable();
  std::lock_guard<std::mutex> lock(t.mu);
  if (e->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  t.entries.erase(e->text);
  delete e;
}
}  // namespace

SharedName::SharedName(std::string_view s) {
  if (s.empty()) return;
  NameTable& t = nameTable();
  std::lock_guard<std::mutex> lock(t.mu);
  if (auto it = t.entries.find(s); it != t.entries.end()) {
    e_ = it->second;
    e_->refs.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto e = std::make_unique<Entry>();
  e->text = std::string(s);
  t.entries.emplace(std::string_view(e->text), e.get());
  e_ = e.release();
}

SharedName::SharedName(const SharedName& o) noexcept : e_(o.e_) { retain(e_); }

SharedName& SharedName::operator=(const SharedName& o) noexcept {
  if (this != &o && e_ != o.e_) {
    retain(o.e_);
    release(e_);
    e_ = o.e_;
  }
  return *this;
}

SharedName& SharedName::operator=(SharedName&& o) noexcept {
  if (this != &o) {
    release(e_);
    e_ = o.e_;
    o.e_ = nullptr;
  }
  return *this;
}

SharedName::~SharedName() { release(e_); }

const std::string& SharedName::str() const {
  static const std::string empty;
  return e_ ? e_->text : empty;
}

std::size_t SharedName::tableSize() {
  NameTable& t = nameTable();
  std::lock_guard<std::mutex> lock(t.mu);
  return t.entries.size();
}

std::string_view toString(Protocol p) {
  switch (p) {
    case Protocol::TCP: return "TCP";
    case Protocol::UDP: return "UDP";
    case Protocol::SCTP: return "SCTP";
  }
  return "?";
}

std::string_view toString(ServiceType t) {
  switch (t) {
    case ServiceType::ClusterIP: return "ClusterIP";
    case ServiceType::NodePort: return "NodePort";
    case ServiceType::LoadBalancer: return "LoadBalancer";
    case ServiceType::ExternalName: return "ExternalName";
  }
  return "?";
}

std::optional<IpAddress> NodeContext::nodeIP(IpFamily family) const {
  for (const auto& ip : nodeIPs)
    if (ip.family() == family) return ip;
  return std::nullopt;
}

bool NodeContext::hasLocalEndpoint(const IpAddress& ip) const {
  return std::binary_search(localEndpointIPs.begin(), localEndpointIPs.end(), ip);
}

std::vector<IpFamily> NodeContext::families() const {
  IpFamily primary = nodeIPs.empty() ? IpFamily::V4 : nodeIPs.front().family();
  std::vector<IpFamily> out{primary};
  IpFamily other = primary == IpFamily::V4 ? IpFamily::V6 : IpFamily::V4;
  if (caps.dualStack && network.type != NetworkType::Overlay) out.push_back(other);
  return out;
}

}  // namespace hnsproxy::policy
