#include "proxy/change_tracker.h"

namespace hnsproxy::proxy {

ChangeTracker::ChangeTracker(std::string nodeName, std::function<void()> onChange)
    : nodeName_(std::move(nodeName)), onChange_(std::move(onChange)) {}

void ChangeTracker::setOnChange(std::function<void()> f) {
  std::lock_guard<std::mutex> lock(mu_);
  onChange_ = std::move(f);
}

void ChangeTracker::setNodeName(std::string name) {
  std::lock_guard<std::mutex> lock(mu_);
  nodeName_ = std::move(name);
}

std::string ChangeTracker::nodeName() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodeName_;
}

void ChangeTracker::changed() {
  std::function<void()> f;
  {
    std::lock_guard<std::mutex> lock(mu_);
    f = onChange_;
  }
  if (f) f();
}

void ChangeTracker::upsertService(policy::Service s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++serviceTotal_;
    auto id = s.id;
    pending_.services[id] = std::move(s);
  }
  changed();
}

void ChangeTracker::deleteService(const policy::ServiceName& id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++serviceTotal_;
    pending_.services[id] = std::nullopt;
  }
  changed();
}

void ChangeTracker::upsertSlice(policy::EndpointSlice s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++endpointTotal_;
    auto key = std::make_pair(s.ns, s.name);
    pending_.slices[key] = std::move(s);
  }
  changed();
}

void ChangeTracker::deleteSlice(const std::string& ns, const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++endpointTotal_;
    pending_.slices[{ns, name}] = std::nullopt;
  }
  changed();
}

void ChangeTracker::upsertNode(policy::Node n) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (n.name != nodeName_) return;  // only this node matters
    pending_.node = std::optional<policy::Node>(std::move(n));
  }
  changed();
}

void ChangeTracker::deleteNode(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (name != nodeName_) return;
    pending_.node = std::optional<policy::Node>();
  }
  changed();
}

void ChangeTracker::synced(watch::Resource r) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    synced_.insert(r);
  }
  changed();
}

ChangeBatch ChangeTracker::take() {
  std::lock_guard<std::mutex> lock(mu_);
  ChangeBatch b = std::move(pending_);
  pending_ = ChangeBatch{};
  return b;
}

bool ChangeTracker::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_.count(watch::Resource::Services) && synced_.count(watch::Resource::EndpointSlices);
}

bool ChangeTracker::nodeSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_.count(watch::Resource::Nodes) > 0;
}

std::size_t ChangeTracker::pendingServices() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.services.size();
}
std::size_t ChangeTracker::pendingEndpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.slices.size();
}
std::uint64_t ChangeTracker::serviceChangesTotal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return serviceTotal_;
}
std::uint64_t ChangeTracker::endpointChangesTotal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return endpointTotal_;
}

}  // namespace hnsproxy::proxy
