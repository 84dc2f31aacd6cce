// Collects source events between syncs, coalescing bursts: only the latest state of each object
// is kept, so N events on one Service become one change. Thread-safe; sources call it from their
// threads, the sync loop takes a batch.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "watch/source.h"

namespace hnsproxy::proxy {

struct ChangeBatch {
  std::map<policy::ServiceName, std::optional<policy::Service>> services;  // nullopt: deleted
  std::map<std::pair<std::string, std::string>, std::optional<policy::EndpointSlice>> slices;
  std::optional<std::optional<policy::Node>> node;  // this node changed (inner nullopt: deleted)
  bool empty() const { return services.empty() && slices.empty() && !node; }
};

class ChangeTracker final : public watch::EventSink {
 public:
  explicit ChangeTracker(std::string nodeName, std::function<void()> onChange = {});

  void upsertService(policy::Service s) override;
  void deleteService(const policy::ServiceName& id) override;
  void upsertSlice(policy::EndpointSlice s) override;
  void deleteSlice(const std::string& ns, const std::string& name) override;
  void upsertNode(policy::Node n) override;
  void deleteNode(const std::string& name) override;
  void synced(watch::Resource r) override;

  void setOnChange(std::function<void()> f);
  // Set before any source delivers (events for other nodes are dropped).
  void setNodeName(std::string name);
  std::string nodeName() const;
  ChangeBatch take();
  // Services and EndpointSlices have both delivered their initial state.
  bool ready() const;
  bool nodeSynced() const;
  std::size_t pendingServices() const;
  std::size_t pendingEndpoints() const;
  std::uint64_t serviceChangesTotal() const;
  std::uint64_t endpointChangesTotal() const;

 private:
  void changed();
  std::string nodeName_;
  std::function<void()> onChange_;
  mutable std::mutex mu_;
  ChangeBatch pending_;
  std::set<watch::Resource> synced_;
  std::uint64_t serviceTotal_ = 0, endpointTotal_ = 0;
};

}  // namespace hnsproxy::proxy
