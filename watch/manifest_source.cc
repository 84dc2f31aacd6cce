#include "watch/manifest_source.h"

#include <fstream>
#include <sstream>

namespace hnsproxy::watch {

using namespace hnsproxy::policy;

ManifestSource::ManifestSource(std::filesystem::path dir, EventSink& sink) : dir_(std::move(dir)), sink_(sink) {}

ManifestSource::Key ManifestSource::keyOf(const Object& o) {
  struct V {
    Key operator()(const Service& s) const { return {0, s.id.ns, s.id.name}; }
    Key operator()(const EndpointSlice& s) const { return {1, s.ns, s.name}; }
    Key operator()(const Node& n) const { return {2, "", n.name}; }
  };
  return std::visit(V{}, o);
}

void ManifestSource::emitUpsert(const Object& o) {
  struct V {
    EventSink& s;
    void operator()(const Service& x) const { s.upsertService(x); }
    void operator()(const EndpointSlice& x) const { s.upsertSlice(x); }
    void operator()(const Node& x) const { s.upsertNode(x); }
  };
  std::visit(V{sink_}, o);
}

void ManifestSource::emitDelete(const Key& k) {
  const auto& [kind, ns, name] = k;
  if (kind == 0) sink_.deleteService({ns, name});
  else if (kind == 1) sink_.deleteSlice(ns, name);
  else sink_.deleteNode(name);
}

ManifestSource::PollResult ManifestSource::poll() {
  PollResult r;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_, ec)) {
    r.dirMissing = true;
    r.errors.push_back({dir_.string(), 0, "the manifest directory does not exist or is not a directory"});
    if (first_) {
      // Nothing to deliver; keep the proxy waiting rather than programming an empty cluster.
      return r;
    }
    return r;  // keep everything delivered so far
  }
  std::set<std::string> seen;
  for (const auto& path : manifestFiles(dir_)) {
    std::string name = path.string();
    seen.insert(name);
    auto mtime = std::filesystem::last_write_time(path, ec);
    auto size = std::filesystem::file_size(path, ec);
    auto it = files_.find(name);
    if (it != files_.end() && it->second.mtime == mtime && it->second.size == size && !ec) continue;
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string content = ss.str();
    FileState& st = files_[name];
    st.mtime = mtime;
    st.size = size;
    if (it != files_.end() && st.content == content && !st.broken) continue;  // touched, not changed
    st.content = content;
    ManifestFile parsed = parseManifest(content, name);
    r.errors.insert(r.errors.end(), parsed.errors.begin(), parsed.errors.end());
    bool hadObjects = !st.objects.empty() || !first_;
    if (!parsed.errors.empty() && hadObjects && it != files_.end()) {
      // Keep what this file delivered before; wait for a version that parses.
      st.broken = true;
      continue;
    }
    st.broken = !parsed.errors.empty();
    std::map<Key, Object> now;
    for (auto& o : parsed.objects) now.emplace(keyOf(o.object), std::move(o.object));
    ++r.changedFiles;
    for (const auto& [k, o] : st.objects) {
      if (now.count(k)) continue;
      auto& prov = providers_[k];
      prov.erase(name);
      if (prov.empty()) {
        providers_.erase(k);
        emitDelete(k);
      }
    }
    for (const auto& [k, o] : now) {
      providers_[k].insert(name);
      auto old = st.objects.find(k);
      if (old == st.objects.end() || !(old->second == o)) emitUpsert(o);
    }
    st.objects = std::move(now);
  }
  for (auto it = files_.begin(); it != files_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    ++r.changedFiles;
    for (const auto& [k, o] : it->second.objects) {
      auto& prov = providers_[k];
      prov.erase(it->first);
      if (prov.empty()) {
        providers_.erase(k);
        emitDelete(k);
      } else {
        // Another file still holds this object: re-deliver its version.
        for (const auto& f : prov)
          if (auto o2 = files_[f].objects.find(k); o2 != files_[f].objects.end()) {
            emitUpsert(o2->second);
            break;
          }
      }
    }
    it = files_.erase(it);
  }
  if (first_) {
    first_ = false;
    sink_.synced(Resource::Services);
    sink_.synced(Resource::EndpointSlices);
    sink_.synced(Resource::Nodes);
  }
  return r;
}

}  // namespace hnsproxy::watch
