// --manifest-dir: Service, EndpointSlice and Node objects from the files of a directory, as a
// source of events. poll() reads what changed since the last call (by size, time and content)
// and emits the difference. A file that does not parse — or holds an object that does not — is
// reported (file, line, reason) and its previously delivered objects are kept until it parses
// again: a typo never deletes a service's load balancers. A removed file deletes its objects once
// it has stayed away for `removalGrace`, so a directory that is being replaced and refilled
// (`mv m m.bak; mkdir m; cp m.bak/* m/`) deletes nothing. A directory that is missing, or has no
// manifest file at all, is never read as "delete everything": its objects are kept, and the
// condition is reported once when it starts and once when it ends. Changed files are read smallest
// first, so that one large file does not hold back the others' changes; the text of a file is not
// kept once parsed (a hash tells a touched file from a changed one).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "watch/manifest.h"
#include "watch/source.h"

namespace hnsproxy::watch {

struct ManifestSourceOptions {
  std::chrono::milliseconds removalGrace{2000};
  std::function<std::chrono::steady_clock::time_point()> clock;  // default: steady_clock::now
  // false for one-shot runs (--sync-once, --dry-run): each object is handed over (moved) and none
  // is kept. The source's copy of every object is for later polls (what changed, what went); it
  // was a second copy of the whole cluster beside the engine's.
  bool keepObjects = true;
};

class ManifestSource {
 public:
  ManifestSource(std::filesystem::path dir, EventSink& sink, ManifestSourceOptions opts = {});

  struct PollResult {
    std::size_t changedFiles = 0;
    std::vector<ManifestError> errors;  // new problems found by this poll
    // Objects this poll deleted, as "Service shop/web (no longer in services.yaml)": a file cut
    // short while being written can still parse, and what it drops must not go unnoticed.
    std::vector<std::string> removed;
    bool dirMissing = false;
    std::uintmax_t bytesParsed = 0;  // of the files read and parsed by this poll
  };
  // The first call delivers everything and signals synced for all resources.
  PollResult poll();

 private:
  using Key = std::tuple<int, std::string, std::string>;  // kind, namespace, name
  struct FileState {
    std::filesystem::file_time_type mtime{};
    std::uintmax_t size = 0;
    std::uint64_t contentHash = 0;  // a file touched but not changed is not parsed again
    std::map<Key, Object> objects;
    bool broken = false;
  };
  static Key keyOf(const Object& o);
  void emitDelete(const Key& k);

  void removeFile(const std::string& name, FileState& st, PollResult& r);
  static std::string describe(const Key& k);
  enum class DirState { Ok, Missing, Empty };

  std::filesystem::path dir_;
  EventSink& sink_;
  ManifestSourceOptions opts_;
  DirState dirState_ = DirState::Ok;
  std::map<std::string, std::chrono::steady_clock::time_point> missingSince_;
  std::map<std::string, std::chrono::steady_clock::time_point> emptiedSince_;  // emptied files in their grace
  std::map<std::string, FileState> files_;
  std::map<Key, std::set<std::string>> providers_;  // which files hold each object
  std::set<std::string> notRegular_;                 // reported once each, until it goes
  bool first_ = true;
};

}  // namespace hnsproxy::watch
