#include "proxy/sync_runner.h"

#include <algorithm>

namespace hnsproxy::proxy {

SyncScheduler::SyncScheduler(Duration minInterval, Duration maxInterval, Duration retryInterval)
    : min_(minInterval), max_(maxInterval), retry_(retryInterval) {}

void SyncScheduler::request() { ++requests_; }

void SyncScheduler::started(TimePoint) { runningSnapshot_ = requests_; }

void SyncScheduler::finished(TimePoint now, bool ok) {
  lastEnd_ = now;
  servedUpTo_ = runningSnapshot_;  // requests made during the run stay pending
  retryAt_.reset();
  if (!ok) retryAt_ = now + retry_;
}

SyncScheduler::TimePoint SyncScheduler::nextRun() const {
  TimePoint next = TimePoint::max();
  if (requests_ > servedUpTo_) next = lastEnd_ ? *lastEnd_ + min_ : TimePoint::min();
  if (lastEnd_) next = std::min(next, *lastEnd_ + max_);
  if (retryAt_) next = std::min(next, std::max(*retryAt_, lastEnd_ ? *lastEnd_ + min_ : TimePoint::min()));
  return next;
}

SyncRunner::SyncRunner(SyncScheduler scheduler, std::function<bool()> fn) : sched_(scheduler), fn_(std::move(fn)) {}

SyncRunner::~SyncRunner() { stop(); }

void SyncRunner::setBackground(std::function<SyncScheduler::TimePoint()> due, std::function<bool()> run) {
  backgroundDue_ = std::move(due);
  backgroundRun_ = std::move(run);
}

void SyncRunner::start() { thread_ = std::thread([this] { loop(); }); }

void SyncRunner::request() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sched_.request();
  }
  cv_.notify_all();
}

void SyncRunner::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SyncRunner::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    auto next = sched_.nextRun();
    auto now = SyncScheduler::Clock::now();
    if (next > now) {
      const auto background = backgroundDue_ ? backgroundDue_() : SyncScheduler::TimePoint::max();
      if (background <= now) {
        lock.unlock();
        const bool syncAfter = backgroundRun_();
        lock.lock();
        if (syncAfter) sched_.request();
        continue;
      }
      next = std::min(next, background);
      if (next == SyncScheduler::TimePoint::max()) cv_.wait(lock);
      else cv_.wait_until(lock, next);
      continue;
    }
    sched_.started(now);
    lock.unlock();
    bool ok = fn_();
    lock.lock();
    sched_.finished(SyncScheduler::Clock::now(), ok);
  }
}

}  // namespace hnsproxy::proxy
