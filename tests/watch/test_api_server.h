// A Kubernetes API server for tests, in the repo: real sockets on loopback, TLS (certificates
// made at test time) and bearer-token or client-certificate auth, list with pagination and
// resourceVersion, chunked watch streams with bookmarks, 410 Gone for expired versions,
// server-side timeouts. The test drives it: create/update/delete objects, expire history, drop
// connections mid-stream or mid-object, split chunks, send malformed events, rotate the token.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_certs.h"

namespace hnsproxy::test {

class TestApiServer {
 public:
  struct Options {
    bool tls = true;
    std::string token = "t0ken-v1";
  };
  explicit TestApiServer(Options o);
  TestApiServer() : TestApiServer(Options{}) {}
  ~TestApiServer();

  std::string url() const;
  const TestPki& pki() const { return pki_; }

  // resource: "services", "endpointslices", "nodes". Returns the object's new resourceVersion.
  std::string upsert(const std::string& resource, nlohmann::json obj);
  void remove(const std::string& resource, const std::string& ns, const std::string& name);
  void compact();                  // every version before now is expired (410 Gone)
  // An outage: while down, every connection is closed as soon as it is accepted, and open watch
  // streams are dropped. Objects can still be changed (the cluster moves on meanwhile).
  void setDown(bool down);
  void dropWatches(bool midObject = false);
  void setToken(const std::string& t);
  void injectMalformed();          // the next event line of every watch is garbage
  void listGarbage(bool b);        // list pages also hold items that are not objects (a string, an array)
  void bookmark();                 // a BOOKMARK event to every watch
  void setChunkSize(std::size_t n);  // write events in pieces of n bytes
  void goneAsErrorEvent(bool b);   // expired versions: an ERROR event instead of a 410 status
  void goneStorm(bool b);          // every watch is answered 410 Gone, whatever its version
  void pauseWatches(bool b);       // streams hold their events (and drops wait) until resumed
  int watchRequests() const { return watchRequests_; }
  int listRequests() const { return listRequests_; }
  int unauthorized() const { return unauthorized_; }
  std::string lastUserAgent() const;
  int activeWatches() const;

 private:
  struct Event {
    long rv;
    std::string resource;
    std::string type;
    nlohmann::json object;
  };
  void acceptLoop();
  void serve(std::shared_ptr<void> conn);
  template <typename Stream>
  void handle(Stream& s, bool clientCertOk);

  Options opts_;
  TestPki pki_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::map<std::pair<std::string, std::string>, nlohmann::json>> store_;
  std::vector<Event> history_;
  long rv_ = 100;
  long compactedBefore_ = 0;
  int dropGeneration_ = 0;
  bool dropMidObject_ = false;
  int malformedGeneration_ = 0;
  bool listGarbage_ = false;
  int bookmarkGeneration_ = 0;
  std::size_t chunkSize_ = 0;
  bool goneAsEvent_ = false;
  bool goneStorm_ = false;
  bool paused_ = false;
  std::string userAgent_;
  std::atomic<bool> down_{false};
  std::atomic<int> watchRequests_{0}, listRequests_{0}, unauthorized_{0}, activeWatches_{0};
  std::atomic<bool> stop_{false};
  int listenFd_ = -1;
  unsigned short port_ = 0;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread acceptThread_;
  std::vector<std::thread> connThreads_;
};

}  // namespace hnsproxy::test
