// A reflector per resource, as client-go's: a paginated list, then a watch from the list's
// resourceVersion with bookmarks and a server-side timeout; the chunked event stream decoded
// line by line; ADDED/MODIFIED/DELETED/BOOKMARK/ERROR handled; on 410 Gone (status or ERROR event)
// a relist whose result is turned into the minimal add/update/delete events against the cache;
// on any failure a reconnect with client-go's exponential backoff and jitter (a storm of 410s
// costs one list per backoff step, not one per round trip), resuming from the last
// resourceVersion. Objects are decoded into the compact policy types; only their
// resourceVersions are kept here. Updates with an unchanged resourceVersion do not reach the sink.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "watch/api_client.h"
#include "watch/decoder.h"
#include "watch/source.h"

namespace hnsproxy::watch {

using LogFn = std::function<void(char severity, const std::string& message)>;

struct ResourceSpec {
  Resource resource;
  std::string path;           // /api/v1/services
  std::string labelSelector;  // may be empty
  std::string fieldSelector;  // may be empty
};

// The three watches kube-proxy opens (kubernetes cmd/kube-proxy/app/server.go Run, pkg/proxy/node.go).
ResourceSpec servicesSpec();
ResourceSpec endpointSlicesSpec();
ResourceSpec nodeSpec(const std::string& nodeName);

struct ReflectorOptions {
  std::size_t pageSize = 500;
  // A list page larger than this is not read; the list restarts with half the page size. When one
  // object alone is larger, the list fails with an error naming the resource and is retried with
  // backoff; nothing delivered before is removed.
  std::uint64_t maxPageBytes = ApiClient::kMaxResponseBytes;
  std::chrono::seconds watchTimeout{300};  // server-side timeoutSeconds
  // client-go's reflector backoff (wait.NewExponentialBackoffManager(800ms, 30s, 2min, 2.0, 1.0)):
  // every relist after the first (a 410 Gone) and every reconnect after a failed list or watch waits
  // the current step plus up to as much again of jitter; the step doubles up to backoffMax, and
  // starts over once backoffReset has passed without a wait (a healthy watch).
  std::chrono::milliseconds backoffInitial{800};
  std::chrono::milliseconds backoffMax{30000};
  std::chrono::milliseconds backoffReset{120000};
  RequestObserver requestObserver;  // given to each API client (KubeSource)
};

class Reflector {
 public:
  Reflector(std::unique_ptr<ApiClient> client, ResourceSpec spec, EventSink& sink, LogFn log,
            ReflectorOptions opts = {});
  // Runs until stop(); never returns on errors (they are retried), never busy-loops.
  void run();
  void stop();

  // One line of a watch stream as the API server sends it (an event: ADDED, MODIFIED, DELETED,
  // BOOKMARK, ERROR): decoded, applied to the cache and delivered; malformed lines are logged and
  // skipped. Continue, or why the stream must end. Used by the watch loop, the tests and the fuzzer.
  enum class LineResult { Continue, Gone, Error, Stopped };
  LineResult handleWatchLine(std::string_view line);

  // Counters for tests and metrics.
  std::uint64_t lists() const { return lists_; }
  std::uint64_t watches() const { return watches_; }
  std::uint64_t events() const { return events_; }
  std::string resourceVersion() const;
  bool synced() const { return synced_; }

 private:
  enum class WatchEnd { Timeout, Gone, Error, Stopped };
  Status list();
  WatchEnd watchOnce();
  using Key = std::pair<std::string, std::string>;  // (namespace, name)
  bool applyObject(const std::string& type, nlohmann::json obj);
  bool unchanged(const Key& key, const std::string& rv) const;  // delivered at this version already
  // Logs and skips what is invalid (with `errors`, adds the message there instead).
  std::optional<Object> decode(nlohmann::json& obj, std::vector<std::string>* errors = nullptr);
  void deliver(const Key& key, const std::string& rv, Object obj);
  void deliverDeleted(const Key& key);
  void sleepFor(std::chrono::milliseconds d);
  // The next wait of the backoff above (jittered), and its step for the log.
  std::chrono::milliseconds nextBackoff(std::chrono::milliseconds* step);
  std::string query(bool watch) const;

  std::unique_ptr<ApiClient> client_;
  ResourceSpec spec_;
  EventSink& sink_;
  LogFn log_;
  ReflectorOptions opts_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string rv_;
  std::map<std::pair<std::string, std::string>, std::string> cache_;  // (ns, name) → resourceVersion
  std::atomic<bool> synced_{false};
  std::atomic<std::uint64_t> lists_{0}, watches_{0}, events_{0};
  std::mt19937 rng_{std::random_device{}()};
  std::chrono::milliseconds backoffStep_{0};
  std::chrono::steady_clock::time_point lastBackoff_{};
};

}  // namespace hnsproxy::watch
