#include "watch/manifest_source.h"


namespace hnsproxy::watch {

using namespace hnsproxy::policy;

namespace {
// FNV-1a, 64 bits: tells a file touched but unchanged from one whose content changed.
std::uint64_t contentHash(const std::string& s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
}  // namespace

ManifestSource::ManifestSource(std::filesystem::path dir, EventSink& sink, ManifestSourceOptions opts)
    : dir_(std::move(dir)), sink_(sink), opts_(std::move(opts)) {
  if (!opts_.clock) opts_.clock = [] { return std::chrono::steady_clock::now(); };
}

std::string ManifestSource::describe(const Key& k) {
  const auto& [kind, ns, name] = k;
  return std::string(kind == 0 ? "Service " : kind == 1 ? "EndpointSlice " : "Node ") + (ns.empty() ? "" : ns + "/") + name;
}

void ManifestSource::removeFile(const std::string& name, FileState& st, PollResult& r) {
  for (const auto& [k, o] : st.objects) {
    auto& prov = providers_[k];
    prov.erase(name);
    if (prov.empty()) {
      providers_.erase(k);
      emitDelete(k);
      r.removed.push_back(describe(k) + " (its file " + name + " was removed)");
    } else {
      // Another file still holds this object: re-deliver its version.
      for (const auto& f : prov)
        if (auto o2 = files_[f].objects.find(k); o2 != files_[f].objects.end()) {
          upsert(sink_, o2->second);
          break;
        }
    }
  }
}

ManifestSource::Key ManifestSource::keyOf(const Object& o) {
  struct V {
    Key operator()(const Service& s) const { return {0, s.id.ns, s.id.name}; }
    Key operator()(const EndpointSlice& s) const { return {1, s.ns, s.name}; }
    Key operator()(const Node& n) const { return {2, "", n.name}; }
  };
  return std::visit(V{}, o);
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
  // A missing or empty directory keeps every object delivered so far; it is reported when the
  // condition starts, not at every poll.
  std::vector<std::filesystem::path> notRegular;
  auto files = std::filesystem::is_directory(dir_, ec) ? manifestFiles(dir_, &notRegular) : std::vector<std::filesystem::path>{};
  std::set<std::string> stillNotRegular;
  for (const auto& p : notRegular) {
    stillNotRegular.insert(p.string());
    if (!notRegular_.count(p.string()))
      r.errors.push_back({p.string(), 0, "not a regular file (a FIFO, device or directory); skipped"});
  }
  notRegular_ = std::move(stillNotRegular);
  DirState state = !std::filesystem::is_directory(dir_, ec) ? DirState::Missing
                   : files.empty() && !files_.empty()        ? DirState::Empty
                                                             : DirState::Ok;
  if (state != DirState::Ok) {
    r.dirMissing = state == DirState::Missing;
    if (state != dirState_)
      r.errors.push_back({dir_.string(), 0,
                          state == DirState::Missing
                              ? "the manifest directory does not exist or is not a directory; its objects are kept"
                              : "the manifest directory has no manifest files; its objects are kept until files return"});
    dirState_ = state;
    return r;  // first_ stays true when nothing was ever read: the proxy keeps waiting
  }
  if (dirState_ != DirState::Ok) missingSince_.clear();  // back: grace starts over for what is still absent
  dirState_ = DirState::Ok;
  const auto polledAt = opts_.clock();
  std::set<std::string> seen;
  struct Changed {
    std::filesystem::path path;
    std::filesystem::file_time_type mtime;
    std::uintmax_t size;
  };
  std::vector<Changed> changed;
  for (const auto& path : files) {
    std::string name = path.string();
    seen.insert(name);
    missingSince_.erase(name);
    auto mtime = std::filesystem::last_write_time(path, ec);
    auto size = std::filesystem::file_size(path, ec);
    auto it = files_.find(name);
    if (it != files_.end() && it->second.mtime == mtime && it->second.size == size && !ec) continue;
    changed.push_back({path, mtime, size});
  }
  // Smallest first: a large file's parse holds back no other file's change.
  std::stable_sort(changed.begin(), changed.end(), [](const Changed& a, const Changed& b) { return a.size < b.size; });
  for (const auto& [path, mtime, size] : changed) {
    std::string name = path.string();
    auto it = files_.find(name);
    std::string content;
    if (auto rd = readRegularFile(path, kMaxManifestBytes, content); !rd) {
      r.errors.push_back({name, 0, rd.error().message + "; its previous objects are kept"});
      continue;
    }
    // An emptied file that held objects is most likely being rewritten (truncated, then written:
    // an editor's save): it gets the removal grace a missing file gets, and its state is left as
    // it was, so every poll looks at it again until the grace is over or content comes.
    if (content.empty() && it != files_.end() && !it->second.objects.empty()) {
      auto since = emptiedSince_.emplace(name, polledAt).first->second;
      if (polledAt - since < opts_.removalGrace) continue;
    }
    emptiedSince_.erase(name);
    FileState& st = files_[name];
    st.mtime = mtime;
    st.size = size;
    const std::uint64_t hash = contentHash(content);
    if (it != files_.end() && st.contentHash == hash && !st.broken) continue;  // touched, not changed
    st.contentHash = hash;
    r.bytesParsed += content.size();
    ManifestFile parsed = parseManifest(content, name);
    std::string().swap(content);  // the text goes before the objects are compared and delivered
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
    if (!opts_.keepObjects) {  // a one-shot run: everything handed over, nothing kept
      for (auto& [k, o] : now) upsert(sink_, std::move(o));
      continue;
    }
    for (const auto& [k, o] : st.objects) {
      if (now.count(k)) continue;
      auto& prov = providers_[k];
      prov.erase(name);
      if (prov.empty()) {
        providers_.erase(k);
        emitDelete(k);
        r.removed.push_back(describe(k) + " (no longer in " + name + ")");
      }
    }
    for (const auto& [k, o] : now) {
      providers_[k].insert(name);
      auto old = st.objects.find(k);
      if (old == st.objects.end() || !(old->second == o)) upsert(sink_, o);
    }
    st.objects = std::move(now);
  }
  for (auto it = files_.begin(); it != files_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    auto since = missingSince_.emplace(it->first, polledAt).first->second;
    if (polledAt - since < opts_.removalGrace) {  // perhaps being replaced: wait before deleting
      ++it;
      continue;
    }
    ++r.changedFiles;
    missingSince_.erase(it->first);
    removeFile(it->first, it->second, r);
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
