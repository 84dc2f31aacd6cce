#include "watch/kube_source.h"

namespace hnsproxy::watch {

Result<std::unique_ptr<KubeSource>> KubeSource::create(const ClientConfig& cfg, const std::string& userAgent,
                                                       const std::string& nodeName, EventSink& sink, LogFn log,
                                                       ReflectorOptions opts) {
  auto src = std::unique_ptr<KubeSource>(new KubeSource());
  for (const auto& spec : {servicesSpec(), endpointSlicesSpec(), nodeSpec(nodeName)}) {
    auto client = ApiClient::create(cfg, userAgent);  // one connection each: watches are long-lived
    if (!client) return client.error();
    (*client)->setRequestObserver(opts.requestObserver);
    src->reflectors_.push_back(std::make_unique<Reflector>(std::move(client).value(), spec, sink, log, opts));
  }
  return src;
}

KubeSource::~KubeSource() { stop(); }

void KubeSource::start() {
  for (auto& r : reflectors_) threads_.emplace_back([p = r.get()] { p->run(); });
}

void KubeSource::stop() {
  for (auto& r : reflectors_) r->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace hnsproxy::watch
