// What every input source (the manifest directory, the API informers) delivers: object events
// and a "synced" signal per resource once its initial state has been delivered.
#pragma once

#include <string>

#include "policy/model.h"

namespace hnsproxy::watch {

enum class Resource { Services, EndpointSlices, Nodes };

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void upsertService(policy::Service s) = 0;
  virtual void deleteService(const policy::ServiceName& id) = 0;
  virtual void upsertSlice(policy::EndpointSlice s) = 0;
  virtual void deleteSlice(const std::string& ns, const std::string& name) = 0;
  virtual void upsertNode(policy::Node n) = 0;
  virtual void deleteNode(const std::string& name) = 0;
  virtual void synced(Resource r) = 0;
};

}  // namespace hnsproxy::watch
