#include "hns/deadline_api.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

namespace hnsproxy::hns {

using Clock = std::chrono::steady_clock;

struct DeadlineApi::Shared {
  std::shared_ptr<Api> inner;
  std::chrono::milliseconds deadline{0};

  std::mutex mu;
  std::condition_variable work, exited;
  std::deque<std::function<void()>> tasks;
  int threads = 0, idle = 0;
  bool stopping = false;

  int late = 0;  // calls past their deadline that have not returned
  std::string lateCall;
  Clock::time_point lateSince;
  std::uint64_t timedOut = 0;
  LateHandler onLate;
  TimeoutHandler onTimeout;
  std::function<bool()> stop;
  int handlersRunning = 0;
  std::map<Handle, std::string> objects;  // what each open handle names, for messages
  // Handles whose close was not attempted because HNS was not answering: closed as soon as it
  // answers again (or when the wrapper goes, if it does by then), never left open.
  std::vector<Handle> deferredCloses;
};

namespace {

using Shared = DeadlineApi::Shared;

// A worker: runs calls until the wrapper is destroyed. Workers are detached (a hung HNS call
// cannot be joined) and hold the shared state, so a late return always has somewhere to land.
void runWorker(const std::shared_ptr<Shared>& s) {
  std::unique_lock<std::mutex> lock(s->mu);
  for (;;) {
    ++s->idle;
    s->work.wait(lock, [&] { return s->stopping || !s->tasks.empty(); });
    --s->idle;
    if (s->tasks.empty()) break;
    auto task = std::move(s->tasks.front());
    s->tasks.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
  --s->threads;
  s->exited.notify_all();
}

// Under s->mu.
void post(const std::shared_ptr<Shared>& s, std::function<void()> task) {
  s->tasks.push_back(std::move(task));
  if (s->idle >= static_cast<int>(s->tasks.size())) {
    s->work.notify_one();
    return;
  }
  ++s->threads;
  std::thread([s] { runWorker(s); }).detach();
}

std::string kindAndId(ObjectKind k, const std::string& id) { return std::string(toString(k)) + " " + id; }

}  // namespace

DeadlineApi::DeadlineApi(std::shared_ptr<Api> inner, std::chrono::milliseconds deadline)
    : shared_(std::make_shared<Shared>()) {
  shared_->inner = std::move(inner);
  shared_->deadline = deadline;
}

DeadlineApi::~DeadlineApi() {
  std::unique_lock<std::mutex> lock(shared_->mu);
  if (shared_->late == 0) {  // closes deferred while HNS did not answer, and it answered since
    std::vector<Handle> closes;
    closes.swap(shared_->deferredCloses);
    lock.unlock();
    for (Handle h : closes) shared_->inner->close(h);
    lock.lock();
  }
  shared_->stopping = true;
  shared_->onLate = nullptr;
  shared_->work.notify_all();
  shared_->exited.wait(lock, [&] { return shared_->handlersRunning == 0; });
  // The idle workers exit at once; the late ones finish on their own, whenever HNS answers.
  shared_->exited.wait_for(lock, std::chrono::seconds(2), [&] { return shared_->threads <= shared_->late; });
}

void DeadlineApi::setLateHandler(LateHandler h) {
  std::unique_lock<std::mutex> lock(shared_->mu);
  shared_->onLate = std::move(h);
  // The old handler's captures may be about to go: no call of it is left running.
  shared_->exited.wait(lock, [&] { return shared_->handlersRunning == 0; });
}

void DeadlineApi::setTimeoutHandler(TimeoutHandler h) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->onTimeout = std::move(h);
}

void DeadlineApi::setStop(std::function<bool()> stop) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->stop = std::move(stop);
}

std::uint64_t DeadlineApi::timedOut() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->timedOut;
}

int DeadlineApi::outstanding() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->late;
}

std::string DeadlineApi::objectOf(Handle h) const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  auto it = shared_->objects.find(h);
  return it == shared_->objects.end() ? fmt::format("handle {}", h) : it->second;
}

template <typename T, typename Call>
Result<T> DeadlineApi::call(const std::string& function, const std::string& object, Call&& c, bool* attempted) {
  const std::shared_ptr<Shared> s = shared_;
  struct Pending {
    std::mutex mu;
    std::condition_variable done;
    std::optional<Result<T>> result;
    bool abandoned = false;
    Clock::time_point started = Clock::now();
  };
  auto p = std::make_shared<Pending>();
  std::function<bool()> stopping;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    stopping = s->stop;
  }
  if (stopping && stopping())
    return Error(ErrorCode::Transient, fmt::format("{} ({}) not attempted: kube-proxy is stopping", function, object),
                 hcn::kErrorTimeout);
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->late > 0) {
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - s->lateSince).count();
      return Error(ErrorCode::Transient,
                   fmt::format("{} ({}) not attempted: HNS has not answered {} for {} ms", function, object, s->lateCall,
                               waited),
                   hcn::kErrorTimeout);
    }
    if (attempted) *attempted = true;
    post(s, [s, p, function, object, c = std::forward<Call>(c)]() mutable {
      Result<T> r = c(*s->inner);
      std::unique_lock<std::mutex> pl(p->mu);
      if (!p->abandoned) {
        p->result.emplace(std::move(r));
        pl.unlock();
        p->done.notify_all();
        return;
      }
      pl.unlock();
      // Late: whatever it opened is closed, and the caller learns what happened.
      if constexpr (std::is_same_v<T, Handle>) {
        if (r) s->inner->close(*r);
      }
      LateHandler handler;
      std::vector<Handle> closes;
      {
        std::lock_guard<std::mutex> sl(s->mu);
        if (--s->late == 0) closes.swap(s->deferredCloses);
        handler = s->onLate;
        if (handler) ++s->handlersRunning;
      }
      for (Handle h : closes) s->inner->close(h);  // HNS answers again: what could not be closed meanwhile
      if (!handler) return;
      handler(function, object, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - p->started), r.ok());
      std::lock_guard<std::mutex> sl(s->mu);
      --s->handlersRunning;
      s->exited.notify_all();
    });
  }
  std::unique_lock<std::mutex> pl(p->mu);
  const auto until = s->deadline.count() > 0 ? p->started + s->deadline : Clock::time_point::max();
  bool stopped = false;
  while (!p->result) {
    if (stopping && stopping()) {
      stopped = true;
      break;
    }
    const auto now = Clock::now();
    if (now >= until) break;
    p->done.wait_until(pl, std::min(until, now + std::chrono::milliseconds(50)));
  }
  if (p->result) return std::move(*p->result);
  p->abandoned = true;  // under p->mu: the worker either sees this, or has not finished yet
  TimeoutHandler onTimeout;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->late++ == 0) {
      s->lateCall = function + " (" + object + ")";
      s->lateSince = p->started;
    }
    if (!stopped) ++s->timedOut;
    onTimeout = stopped ? TimeoutHandler{} : s->onTimeout;
  }
  pl.unlock();
  if (stopped)
    return Error(ErrorCode::Transient,
                 fmt::format("{} ({}) abandoned after {} ms: kube-proxy is stopping (the call goes on; HNS is re-read "
                             "at the next start)",
                             function, object,
                             std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - p->started).count()),
                 hcn::kErrorTimeout);
  if (onTimeout) onTimeout(function, object);
  return Error(ErrorCode::Transient,
               fmt::format("{} ({}) did not return within {} ms: HNS may be hung; the call goes on, and HNS is re-read "
                           "when it returns",
                           function, object, s->deadline.count()),
               hcn::kErrorTimeout);
}

Result<std::vector<std::string>> DeadlineApi::enumerate(ObjectKind kind, const std::string& query) {
  return call<std::vector<std::string>>(std::string("HcnEnumerate") + toString(kind) + "s", query,
                                        [kind, query](Api& a) { return a.enumerate(kind, query); });
}

Result<Handle> DeadlineApi::open(ObjectKind kind, const std::string& id) {
  auto object = kindAndId(kind, id);
  auto r = call<Handle>(std::string("HcnOpen") + toString(kind), object, [kind, id](Api& a) { return a.open(kind, id); });
  if (r) {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->objects[*r] = object;
  }
  return r;
}

Result<std::string> DeadlineApi::query(Handle h, const std::string& q) {
  return call<std::string>("HcnQueryProperties", objectOf(h), [h, q](Api& a) { return a.query(h, q); });
}

Result<Handle> DeadlineApi::create(ObjectKind kind, const std::string& id, const std::string& settings, Handle network) {
  auto object = kindAndId(kind, id);
  auto r = call<Handle>(std::string("HcnCreate") + toString(kind), object,
                        [kind, id, settings, network](Api& a) { return a.create(kind, id, settings, network); });
  if (r) {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->objects[*r] = object;
  }
  return r;
}

Status DeadlineApi::modify(Handle h, const std::string& settings) {
  return call<Ok>("HcnModify", objectOf(h), [h, settings](Api& a) { return a.modify(h, settings); });
}

Status DeadlineApi::remove(ObjectKind kind, const std::string& id) {
  return call<Ok>(std::string("HcnDelete") + toString(kind), kindAndId(kind, id),
                  [kind, id](Api& a) { return a.remove(kind, id); });
}

void DeadlineApi::close(Handle h) {
  std::string object = objectOf(h);
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->objects.erase(h);
  }
  bool attempted = false;
  (void)call<Ok>(
      "HcnClose", object,
      [h](Api& a) -> Status {
        a.close(h);
        return Ok{};
      },
      &attempted);
  if (attempted) return;  // done, or late: then it is closed when HNS returns
  // Not attempted (HNS was not answering, or kube-proxy is stopping): kept for when HNS answers.
  std::vector<Handle> now;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->deferredCloses.push_back(h);
    if (shared_->late == 0 && !shared_->stopping) now.swap(shared_->deferredCloses);  // it answered meanwhile
  }
  for (Handle d : now) shared_->inner->close(d);
}

Result<policy::HnsVersion> DeadlineApi::version() {
  return call<policy::HnsVersion>("HNSCall", "GET /globals/version", [](Api& a) { return a.version(); });
}

Result<std::vector<policy::HostAdapter>> DeadlineApi::hostAdapters() {
  return call<std::vector<policy::HostAdapter>>("GetAdaptersAddresses", "the host's adapters",
                                                 [](Api& a) { return a.hostAdapters(); });
}

Result<std::unique_ptr<Subscription>> DeadlineApi::subscribe(NotificationHandler handler) {
  return call<std::unique_ptr<Subscription>>("HcnRegisterServiceCallback", "the HNS service",
                                             [handler = std::move(handler)](Api& a) mutable {
                                               return a.subscribe(std::move(handler));
                                             });
}

}  // namespace hnsproxy::hns
