// The API-server source: three reflectors (Services, EndpointSlices, this Node), each on its own
// thread, delivering into one EventSink. While the API server is unreachable the sink keeps its
// last state (nothing is deleted) and the reflectors retry with backoff; when it returns they
// resume from their resourceVersion, or relist into the minimal set of changes.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "watch/reflector.h"

namespace hnsproxy::watch {

class KubeSource {
 public:
  static Result<std::unique_ptr<KubeSource>> create(const ClientConfig& cfg, const std::string& userAgent,
                                                    const std::string& nodeName, EventSink& sink, LogFn log,
                                                    ReflectorOptions opts = {});
  ~KubeSource();
  void start();
  void stop();
  const std::vector<std::unique_ptr<Reflector>>& reflectors() const { return reflectors_; }

 private:
  std::vector<std::unique_ptr<Reflector>> reflectors_;
  std::vector<std::thread> threads_;
};

}  // namespace hnsproxy::watch
