#include "catch.h"

#include <atomic>

#include "proxy/sync_runner.h"

using namespace hnsproxy::proxy;
using namespace std::chrono_literals;

namespace {
SyncScheduler::TimePoint at(std::chrono::milliseconds ms) { return SyncScheduler::TimePoint{} + ms; }
}  // namespace

TEST_CASE("sync scheduling: immediate first run, min interval, periodic, retry, coalescing") {
  SyncScheduler s(1s, 30s, 5s);
  CHECK(s.nextRun() == SyncScheduler::TimePoint::max());  // nothing asked, never ran
  s.request();
  CHECK(s.due(at(0ms)));
  s.started(at(0ms));
  s.request();  // arrives during the run: another run follows
  s.finished(at(100ms), true);
  CHECK(s.nextRun() == at(1100ms));  // min interval after the end of the last run
  CHECK_FALSE(s.due(at(1000ms)));
  s.started(at(1100ms));
  s.finished(at(1200ms), true);
  CHECK(s.nextRun() == at(31200ms));  // nothing pending: the periodic run
  for (int i = 0; i < 50; ++i) s.request();  // a burst coalesces into one run
  CHECK(s.nextRun() == at(2200ms));
  s.started(at(2200ms));
  s.finished(at(2300ms), false);  // failed: retried
  CHECK(s.nextRun() == at(7300ms));
  s.request();
  CHECK(s.nextRun() == at(3300ms));  // a new change does not wait for the retry
  s.started(at(3300ms));
  s.finished(at(3400ms), true);
  CHECK(s.nextRun() == at(33400ms));  // success clears the retry
}

TEST_CASE("the runner runs requested syncs on its thread and stops cleanly") {
  std::atomic<int> runs{0};
  std::mutex mu;
  std::condition_variable cv;
  SyncRunner r(SyncScheduler(0ms, 1h, 1h), [&] {
    ++runs;
    cv.notify_all();
    return true;
  });
  r.start();
  r.request();
  {
    std::unique_lock<std::mutex> lock(mu);
    REQUIRE(cv.wait_for(lock, 5s, [&] { return runs.load() >= 1; }));
  }
  r.request();
  {
    std::unique_lock<std::mutex> lock(mu);
    REQUIRE(cv.wait_for(lock, 5s, [&] { return runs.load() >= 2; }));
  }
  r.stop();
  int after = runs;
  r.request();
  CHECK(runs == after);
}
