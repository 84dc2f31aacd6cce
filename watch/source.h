// What every input source (the manifest directory, the API informers) delivers: object events
// and a "synced" signal per resource once its initial state has been delivered.
#pragma once

#include <string>
#include <utility>
#include <variant>

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

// One decoded object of any kind a source delivers.
using Object = std::variant<policy::Service, policy::EndpointSlice, policy::Node>;

// Hands `o` to the sink's upsert for its kind (moved: copy at the call when the caller keeps it).
inline void upsert(EventSink& sink, Object o) {
  struct V {
    EventSink& s;
    void operator()(policy::Service& x) const { s.upsertService(std::move(x)); }
    void operator()(policy::EndpointSlice& x) const { s.upsertSlice(std::move(x)); }
    void operator()(policy::Node& x) const { s.upsertNode(std::move(x)); }
  };
  std::visit(V{sink}, o);
}

}  // namespace hnsproxy::watch
