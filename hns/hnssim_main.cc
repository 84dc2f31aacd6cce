// hnssim: the HNS simulator as a daemon, so that HNS state outlives kube-proxy restarts as it
// does on Windows. Serves hns::Api on a Unix-domain socket; persists to a state file (atomically)
// on a writer thread of its own: a change is on disk within --persist-delay-ms (or four times the last
// write's duration, when writing takes longer than that), and at exit. Writes are batched, so a call
// costs about the same with 100,000 objects as with 1,000 (writing after every change made
// programming N objects cost O(N²)).
#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>

#include "hns/cli.h"
#include "hns/sim_server.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;

namespace {

// Writes the simulator's state at most once per `delay`, off the serving thread. The snapshot is
// taken under the simulator's own lock (a copy), then serialised and renamed into place here.
class BatchedPersister {
 public:
  BatchedPersister(SimulatedHns& sim, std::string path, std::chrono::milliseconds delay)
      : sim_(sim), path_(std::move(path)), delay_(delay) {
    if (!path_.empty()) thread_ = std::thread([this] { loop(); });
  }
  ~BatchedPersister() { stop(); }
  BatchedPersister(const BatchedPersister&) = delete;
  BatchedPersister& operator=(const BatchedPersister&) = delete;

  void changed() {
    if (path_.empty()) return;
    std::lock_guard<std::mutex> l(mu_);
    if (!dirty_) dirtySince_ = std::chrono::steady_clock::now();
    dirty_ = true;
    cv_.notify_one();
  }
  // Writes what is pending (and, with `always`, the state even if nothing changed), then ends the thread.
  void stop(bool always = false) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return;
      stopping_ = true;
      dirty_ = dirty_ || always;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return dirty_ || stopping_; });
      // The next write waits the delay, and at least four times as long as the last write took: with
      // 100,000 objects a write takes a second, and back-to-back writes would take a core from
      // serving calls.
      auto due = std::max(dirtySince_ + delay_, lastWriteEnd_ + 4 * lastWrite_);
      if (!stopping_) cv_.wait_until(l, due, [&] { return stopping_; });
      if (dirty_) {
        dirty_ = false;
        l.unlock();
        auto t0 = std::chrono::steady_clock::now();
        if (auto st = saveSnapshot(sim_.snapshot(), path_); !st) std::cerr << "hnssim: " << st.error().message << "\n";
        l.lock();
        lastWriteEnd_ = std::chrono::steady_clock::now();
        lastWrite_ = lastWriteEnd_ - t0;
      }
      if (stopping_ && !dirty_) return;
    }
  }
  SimulatedHns& sim_;
  std::string path_;
  std::chrono::milliseconds delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = false, stopping_ = false;
  std::chrono::steady_clock::time_point dirtySince_{}, lastWriteEnd_{};
  std::chrono::steady_clock::duration lastWrite_{};
  std::thread thread_;
};

bool parseNonNegative(const std::string& v, int& out) {
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && end == v.data() + v.size() && out >= 0;
}

}  // namespace

static int run(int argc, char** argv) {
  CommandLine cl("hnssim");
  cl.flag("help", 'h', "print this help")
      .value("socket", 0, "Unix-domain socket to serve on (required)")
      .value("state", 0, "state file: loaded at start if present, written within --persist-delay-ms of a change and at exit")
      .value("persist-delay-ms", 0,
             "time a change waits before the state file is written, milliseconds (longer when writing takes "
             "longer: 4 times the last write)",
             "200")
      .value("profile", 0, "Windows build profile (default: from the state file's Version)")
      .value("latency-us", 0, "latency added to every call, microseconds", "0")
      .flag("serial", 0, "serve calls one at a time, latency included (as if HNS serialised them)");
  auto parsed = cl.parse(std::vector<std::string>(argv + 1, argv + argc));
  if (parsed && cl.has("help")) {
    std::cout << "usage: hnssim --socket PATH [options]\noptions:\n" << cl.optionsHelp() << "profiles:";
    for (const auto& p : profiles()) std::cout << " " << p.name;
    std::cout << "\n";
    return 0;
  }
  if (parsed && !cl.has("socket")) parsed = Error{ErrorCode::InvalidInput, "hnssim: --socket is required"};
  if (parsed && !cl.words().empty())
    parsed = Error{ErrorCode::InvalidInput, "hnssim: unexpected argument \"" + cl.words().front() + "\""};
  int latencyMicros = 0, persistDelayMs = 0;
  if (parsed && !parseNonNegative(cl.get("latency-us"), latencyMicros))
    parsed = Error{ErrorCode::InvalidInput, "hnssim: invalid --latency-us \"" + cl.get("latency-us") + "\": want microseconds >= 0"};
  if (parsed && !parseNonNegative(cl.get("persist-delay-ms"), persistDelayMs))
    parsed = Error{ErrorCode::InvalidInput,
                   "hnssim: invalid --persist-delay-ms \"" + cl.get("persist-delay-ms") + "\": want milliseconds >= 0"};
  if (!parsed) {
    std::cerr << parsed.error().message << "\n" << cl.optionsHelp();
    return 2;
  }
  const std::string socketPath = cl.get("socket"), statePath = cl.get("state"), profileName = cl.get("profile");
  std::optional<Profile> profile;
  if (!profileName.empty()) {
    profile = profileByName(profileName);
    if (!profile) {
      std::cerr << "hnssim: unknown --profile \"" << profileName << "\"\n";
      return 2;
    }
  }
  HnsSnapshot snap;
  if (!statePath.empty() && std::filesystem::exists(statePath)) {
    auto loaded = loadSnapshot(statePath);
    if (!loaded) {
      std::cerr << "hnssim: " << loaded.error().message << "\n";
      return 1;
    }
    snap = std::move(*loaded);
  } else if (profile) {
    snap.version = profile->version;
  }
  SimulatedHns sim(snap, profile);
  if (latencyMicros > 0) sim.setLatency(std::chrono::microseconds(latencyMicros));
  sim.setSerial(cl.has("serial"));
  BatchedPersister persister(sim, statePath, std::chrono::milliseconds(persistDelayMs));
  boost::asio::io_context io;
  SimServer server(io, sim, socketPath, [&] { persister.changed(); });
  if (auto st = server.start(); !st) {
    std::cerr << st.error().message << "\n";
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    server.stop();
    io.stop();
  });
  std::cout << "hnssim: serving " << socketPath << " as " << sim.profile().name << " (HNS "
            << sim.profile().version.str() << ")" << std::endl;
  io.run();
  persister.stop(true);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a bug or an allocation failure: said, never an abort without a word
    std::cerr << "hnssim: " << e.what() << "\n";
    return 1;
  }
}
