// The four ways kube-proxy runs, over one Runtime that app.cc assembles:
//   --cleanup    remove what kube-proxy programmed on the node's network, print it, exit;
//   --dry-run    print the plan a sync would apply, change nothing;
//   --sync-once  wait for the sources, sync once, exit 0 when everything was programmed;
//   (default)    the daemon: a sync loop driven by changes, health and metrics servers.
// Each returns the process exit code.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <thread>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>

#include "proxy/change_tracker.h"
#include "proxy/health.h"
#include "proxy/hns_backend.h"
#include "proxy/metrics.h"
#include "proxy/options.h"
#include "proxy/proxier.h"

namespace hnsproxy::proxy {

// What every mode shares: the options, the HNS backend, the proxier and its inputs, a stop flag
// (SIGINT/SIGTERM, Ctrl+C, the service manager, or a test's predicate) and an io thread that
// handles signals and, in the daemon, serves HTTP and polls the manifest directory.
class Runtime {
 public:
  static Result<std::unique_ptr<Runtime>> create(const Options& o, std::ostream& out, std::ostream& err,
                                                 std::function<bool()> externalStop);
  ~Runtime();

  const Options& opts;
  std::ostream& out;
  std::ostream& err;
  std::string nodeName;
  std::string networkName;
  std::unique_ptr<HnsBackend> backend;
  Metrics metrics;
  ProxyHealth health;
  ChangeTracker tracker;
  std::unique_ptr<Proxier> proxier;
  boost::asio::io_context io;

  bool stopRequested() const { return stopping_ || (externalStop_ && externalStop_()); }
  void requestStop();
  // Blocks until a stop is requested.
  void waitForStop();
  // Sleeps for `d`, or less when a stop is requested meanwhile (HNS backoff and waiting use it, so
  // that SIGTERM is honoured within seconds whatever HNS is doing).
  void sleepUnlessStopped(std::chrono::milliseconds d);
  // Writes the in-process simulator's state, logging a failure.
  void persist() const;
  // Stops the io thread (after the mode's own io work is cancelled).
  void stopIo(const std::function<void()>& onIoThread = {});

 private:
  Runtime(const Options& o, std::ostream& out, std::ostream& err, std::function<bool()> externalStop);
  std::function<bool()> externalStop_;
  std::atomic<bool> stopping_{false};
  std::mutex stopMu_;               // with stopCv_: wakes waitForStop and sleepUnlessStopped
  std::condition_variable stopCv_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  boost::asio::signal_set signals_;
  std::thread ioThread_;
};

int runCleanup(Runtime& rt);
int runDryRun(Runtime& rt);
int runSyncOnce(Runtime& rt);
int runDaemon(Runtime& rt);

}  // namespace hnsproxy::proxy
