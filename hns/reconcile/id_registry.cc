#include "hns/reconcile/id_registry.h"

#include <algorithm>
#include <iterator>

namespace hnsproxy::hns {

using policy::IpAddress;
using policy::LbKey;

namespace {

constexpr bool isDash(std::size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

HnsId::HnsId(std::string_view s) {
  if (s.empty()) return;
  bool upper = false, lower = false, ok = s.size() == 36;
  std::size_t b = 0;
  for (std::size_t i = 0; ok && i < s.size(); ++i) {
    if (isDash(i)) {
      ok = s[i] == '-';
      continue;
    }
    int hi = policy::hexDigit(s[i]), lo = i + 1 < s.size() ? policy::hexDigit(s[i + 1]) : -1;
    ok = hi >= 0 && lo >= 0 && !isDash(i + 1);
    if (!ok) break;
    for (char c : {s[i], s[i + 1]}) {
      upper = upper || (c >= 'A' && c <= 'F');
      lower = lower || (c >= 'a' && c <= 'f');
    }
    bytes_[b++] = static_cast<std::uint8_t>(hi * 16 + lo);
    ++i;
  }
  if (ok && b == 16 && !(upper && lower)) {
    form_ = lower ? 2 : 1;
    return;
  }
  setText(new std::string(s));
}

std::string HnsId::str() const {
  if (form_ == kText) return *text();
  if (form_ == 0) return {};
  const char* digits = form_ == 2 ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  out.reserve(36);
  for (std::size_t b = 0; b < 16; ++b) {
    if (b == 4 || b == 6 || b == 8 || b == 10) out.push_back('-');
    out.push_back(digits[bytes_[b] >> 4]);
    out.push_back(digits[bytes_[b] & 15]);
  }
  return out;
}

IdRegistry::IdRegistry() { maps_.managedEndpoints.max_load_factor(kLoadFactor); }

void IdRegistry::reset(IdMaps maps) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_ = std::move(maps);
  maps_.managedEndpoints.max_load_factor(kLoadFactor);
}

std::optional<std::string> IdRegistry::loadBalancer(const LbKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = maps_.loadBalancers.find(key);
  return it == maps_.loadBalancers.end() ? std::nullopt : std::optional<std::string>(it->second.str());
}

void IdRegistry::setLoadBalancer(const LbKey& key, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.loadBalancers[key] = HnsId(id);
}

void IdRegistry::eraseLoadBalancer(const LbKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.loadBalancers.erase(key);
}

std::optional<std::string> IdRegistry::managedEndpoint(const IpAddress& ip) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = maps_.managedEndpoints.find(ip);
  return it == maps_.managedEndpoints.end() ? std::nullopt : std::optional<std::string>(it->second.str());
}

void IdRegistry::setManagedEndpoint(const IpAddress& ip, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.managedEndpoints[ip] = HnsId(id);
}

void IdRegistry::eraseManagedEndpoint(const IpAddress& ip) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.managedEndpoints.erase(ip);
}

std::optional<std::string> IdRegistry::backend(const IpAddress& ip) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = maps_.localEndpoints.find(ip); it != maps_.localEndpoints.end()) return it->second;
  if (auto it = maps_.managedEndpoints.find(ip); it != maps_.managedEndpoints.end()) return it->second.str();
  return std::nullopt;
}

void IdRegistry::updateLocal(const std::set<std::string>& present,
                             const std::vector<std::pair<std::string, std::vector<IpAddress>>>& freshLocal,
                             const std::vector<std::string>& freshForeign) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(maps_.localEndpoints, [&](const auto& kv) { return !present.count(kv.second); });
  std::erase_if(maps_.foreignEndpoints, [&](const std::string& id) { return !present.count(id); });
  for (const auto& [id, ips] : freshLocal)
    for (const auto& ip : ips) maps_.localEndpoints[ip] = id;
  maps_.foreignEndpoints.insert(freshForeign.begin(), freshForeign.end());
}

std::unordered_set<std::string> IdRegistry::knownEndpointIds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::unordered_set<std::string> out(maps_.foreignEndpoints.begin(), maps_.foreignEndpoints.end());
  for (const auto& [ip, id] : maps_.localEndpoints) out.insert(id);
  for (const auto& [ip, id] : maps_.managedEndpoints) out.insert(id.str());
  return out;
}

Existence IdRegistry::compare(const std::vector<HnsId>& endpoints, const std::vector<HnsId>& loadBalancers) const {
  auto listed = [](const std::vector<HnsId>& v, const HnsId& id) { return std::binary_search(v.begin(), v.end(), id); };
  // Listed IDs missing from `mine` (sorted), in order.
  auto unknown = [](const std::vector<HnsId>& present, const std::vector<HnsId>& mine) {
    std::vector<HnsId> out;
    std::set_difference(present.begin(), present.end(), mine.begin(), mine.end(), std::back_inserter(out));
    return out;
  };
  std::lock_guard<std::mutex> lock(mu_);
  Existence e;
  std::vector<HnsId> mine;
  mine.reserve(maps_.managedEndpoints.size() + maps_.localEndpoints.size() + maps_.foreignEndpoints.size());
  for (const auto& [ip, id] : maps_.managedEndpoints) {
    if (!listed(endpoints, id)) e.goneManagedEndpoints.emplace_back(id, ip);
    mine.push_back(id);
  }
  for (const auto& [ip, id] : maps_.localEndpoints) mine.emplace_back(id);
  for (const auto& id : maps_.foreignEndpoints) mine.emplace_back(id);
  std::sort(mine.begin(), mine.end());
  e.unknownEndpoints = unknown(endpoints, mine);
  mine.clear();
  for (const auto& [key, id] : maps_.loadBalancers) {
    if (!listed(loadBalancers, id)) e.goneLoadBalancers.emplace_back(id, key);
    mine.push_back(id);
  }
  std::sort(mine.begin(), mine.end());
  e.unknownLoadBalancers = unknown(loadBalancers, mine);
  auto byId = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::sort(e.goneManagedEndpoints.begin(), e.goneManagedEndpoints.end(), byId);
  std::sort(e.goneLoadBalancers.begin(), e.goneLoadBalancers.end(), byId);
  return e;
}

void IdRegistry::addForeignEndpoint(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.foreignEndpoints.insert(id);
}

void IdRegistry::addLocalEndpoint(const std::string& id, const std::vector<IpAddress>& ips) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& ip : ips) maps_.localEndpoints[ip] = id;
}

bool IdRegistry::keepEndpointIds(const std::vector<HnsId>& present) {
  std::lock_guard<std::mutex> lock(mu_);
  auto gone = [&](const std::string& id) { return !std::binary_search(present.begin(), present.end(), HnsId(id)); };
  const auto before = maps_.localEndpoints.size();
  std::erase_if(maps_.localEndpoints, [&](const auto& kv) { return gone(kv.second); });
  std::erase_if(maps_.foreignEndpoints, [&](const std::string& id) { return gone(id); });
  return maps_.localEndpoints.size() != before;
}

std::map<std::string, std::vector<IpAddress>> IdRegistry::endpointAddresses() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::vector<IpAddress>> out;
  for (const auto& [ip, id] : maps_.managedEndpoints) out[id.str()].push_back(ip);
  for (const auto& [ip, id] : maps_.localEndpoints) out[id].push_back(ip);
  return out;
}

}  // namespace hnsproxy::hns
