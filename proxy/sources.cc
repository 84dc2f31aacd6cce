#include "proxy/sources.h"

#include <fmt/format.h>

#include "proxy/logging.h"
#include "proxy/process_metrics.h"
#include "proxy/version.h"

namespace hnsproxy::proxy {

Result<std::unique_ptr<Sources>> Sources::create(const Options& o, const std::string& nodeName, ChangeTracker& tracker,
                                                 watch::RequestObserver requests) {
  auto s = std::unique_ptr<Sources>(new Sources());
  if (!o.manifestDir.empty()) {
    watch::ManifestSourceOptions mo;
    mo.keepObjects = !o.syncOnce && !o.dryRun;  // one poll, then the run ends
    s->manifests_ = std::make_unique<watch::ManifestSource>(o.manifestDir, tracker, std::move(mo));
    s->description_ = "manifest directory " + o.manifestDir;
    return s;
  }
  auto cfg = watch::resolveClientConfig(o.kubeconfig, o.master);
  if (!cfg) return cfg.error();
  watch::ReflectorOptions ro;
  ro.requestObserver = std::move(requests);
  auto k = watch::KubeSource::create(
      *cfg, userAgent(), nodeName, tracker,
      [](char sev, const std::string& m) {
        if (sev == 'E') HLOG_ERROR(m.c_str());
        else if (sev == 'W') HLOG_WARN(m.c_str());
        else HLOG_INFO(m.c_str());
      },
      ro);
  if (!k) return k.error();
  s->kube_ = std::move(k).value();
  s->description_ = "API server " + log::redactUrl(cfg->server);
  return s;
}

Sources::~Sources() { stop(); }

void Sources::start() {
  if (kube_) {
    kube_->start();
    HLOG_INFO("Watching the API server", "server", description_);
  }
  poll();
}

void Sources::poll() {
  if (!manifests_) return;
  auto r = manifests_->poll();
  // A large file read and parsed (its text and its documents are gone by now): hand the memory back.
  if (r.bytesParsed >= (std::uintmax_t{8} << 20)) releaseFreedMemory();
  for (const auto& e : r.errors) HLOG_ERROR("Manifest not applied; its previous objects are kept", "error", e.str());
  for (const auto& what : r.removed) HLOG_WARN("Object removed from the manifest directory; deleting it", "object", what);
}

void Sources::stop() {
  if (kube_) kube_->stop();
}

}  // namespace hnsproxy::proxy
