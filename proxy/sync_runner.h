// When to sync: upstream's BoundedFrequencyRunner semantics (kubernetes pkg/proxy/runner/bounded_frequency_runner.go).
//  - A request runs as soon as allowed: no sooner than minInterval after the end of the last run.
//  - A run happens at least every maxInterval (the periodic sync; with nothing changed it makes
//    no HNS call).
//  - A failed run is retried after retryInterval (if sooner than the periodic run).
//  - Requests made while a run is in progress cause another run; bursts coalesce into one.
// SyncScheduler is the pure decision (time is passed in); SyncRunner drives it on a thread, and
// between syncs runs background work in pieces (verification).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace hnsproxy::proxy {

class SyncScheduler {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;

  SyncScheduler(Duration minInterval, Duration maxInterval, Duration retryInterval);
  void request();
  void started(TimePoint now);
  void finished(TimePoint now, bool ok);
  // When the next run is due (TimePoint::max() when nothing will ever be due).
  TimePoint nextRun() const;
  bool due(TimePoint now) const { return nextRun() <= now; }

 private:
  Duration min_, max_, retry_;
  std::optional<TimePoint> lastEnd_;
  std::optional<TimePoint> retryAt_;
  std::uint64_t requests_ = 0, servedUpTo_ = 0, runningSnapshot_ = 0;
};

class SyncRunner {
 public:
  SyncRunner(SyncScheduler scheduler, std::function<bool()> fn);
  ~SyncRunner();
  // Work done between syncs on the same thread (verification slices): `due` says when the next
  // piece is due, `run` does one piece and returns whether a sync should follow it. A piece runs
  // only when no sync is due, so a change waits at most one piece. Set before start().
  void setBackground(std::function<SyncScheduler::TimePoint()> due, std::function<bool()> run);
  void start();
  void request();  // thread-safe
  void stop();     // waits for a run in progress to finish

 private:
  void loop();
  SyncScheduler sched_;
  std::function<bool()> fn_;
  std::function<SyncScheduler::TimePoint()> backgroundDue_;
  std::function<bool()> backgroundRun_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace hnsproxy::proxy
