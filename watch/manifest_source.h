// --manifest-dir: Service, EndpointSlice and Node objects from the files of a directory, as a
// source of events. poll() reads what changed since the last call (by size, time and content)
// and emits the difference. A file that does not parse — or holds an object that does not — is
// reported (file, line, reason) and its previously delivered objects are kept until it parses
// again: a typo never deletes a service's load balancers. A removed file deletes its objects.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "watch/manifest.h"
#include "watch/source.h"

namespace hnsproxy::watch {

class ManifestSource {
 public:
  ManifestSource(std::filesystem::path dir, EventSink& sink);

  struct PollResult {
    std::size_t changedFiles = 0;
    std::vector<ManifestError> errors;  // new problems found by this poll
    bool dirMissing = false;
  };
  // The first call delivers everything and signals synced for all resources.
  PollResult poll();

 private:
  using Key = std::tuple<int, std::string, std::string>;  // kind, namespace, name
  struct FileState {
    std::filesystem::file_time_type mtime{};
    std::uintmax_t size = 0;
    std::string content;
    std::map<Key, Object> objects;
    bool broken = false;
  };
  static Key keyOf(const Object& o);
  void emitUpsert(const Object& o);
  void emitDelete(const Key& k);

  std::filesystem::path dir_;
  EventSink& sink_;
  std::map<std::string, FileState> files_;
  std::map<Key, std::set<std::string>> providers_;  // which files hold each object
  bool first_ = true;
};

}  // namespace hnsproxy::watch
