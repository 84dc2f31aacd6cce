// Where Services, EndpointSlices and the Node come from: a manifest directory (--manifest-dir,
// polled) or the API server (--kubeconfig, --master, in-cluster: three reflectors on their own
// threads). Either delivers into the change tracker.
#pragma once

#include <memory>
#include <string>

#include "proxy/change_tracker.h"
#include "proxy/options.h"
#include "watch/kube_source.h"
#include "watch/manifest_source.h"

namespace hnsproxy::proxy {

class Sources {
 public:
  // Errors: the API client could not be configured (kubeconfig, in-cluster files, TLS material).
  // `requests` sees every API request (the rest_client_* metrics).
  static Result<std::unique_ptr<Sources>> create(const Options& o, const std::string& nodeName, ChangeTracker& tracker,
                                                 watch::RequestObserver requests = {});
  ~Sources();

  // Manifest directory: the first read (every object, then "synced"). API server: the reflectors
  // start listing.
  void start();
  // Manifest directory: reads what changed since the last poll. API server: nothing.
  void poll();
  void stop();

  bool fromApiServer() const { return kube_ != nullptr; }
  const std::string& description() const { return description_; }

 private:
  std::unique_ptr<watch::ManifestSource> manifests_;
  std::unique_ptr<watch::KubeSource> kube_;
  std::string description_;
};

}  // namespace hnsproxy::proxy
