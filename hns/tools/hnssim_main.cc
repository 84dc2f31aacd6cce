// hnssim: the HNS simulator as a daemon, so that HNS state outlives kube-proxy restarts as it
// does on Windows. Serves hns::Api on a Unix-domain socket; persists to a state file (atomically)
// on a writer thread of its own: a change is on disk within --persist-delay-ms (or four times the last
// write's duration, when writing takes longer than that), and at exit. Writes are batched, so a call
// costs about the same with 100,000 objects as with 1,000 (writing after every change made
// programming N objects cost O(N²)).
#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>

#include "hns/tools/cli.h"
#include "hns/sim/sim_server.h"

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


}  // namespace

static int run(int argc, char** argv) {
  po::options_description options("options");
  options.add_options()  //
      ("socket", po::value<std::string>(), "Unix-domain socket to serve on (required)")
      ("state", po::value<std::string>(),
       "state file: loaded at start if present, written within --persist-delay-ms of a change and at exit")
      ("persist-delay-ms", po::value<int>()->default_value(200),
       "time a change waits before the state file is written, milliseconds (longer when writing takes longer: 4 "
       "times the last write)")
      ("profile", po::value<std::string>(), "Windows build profile (default: from the state file's Version)")
      ("latency-us", po::value<int>()->default_value(0), "latency added to every call, microseconds")
      ("serial", po::bool_switch(), "serve calls one at a time, latency included (as if HNS serialised them)");
  std::string usage = "hnssim --socket PATH [options]; profiles:";
  for (const auto& p : profiles()) usage += " " + p.name;
  auto line = parseProgramCommandLine(usage, options, argc, argv);
  if (!line.parsed) return line.exitCode;
  const ParsedCommandLine& cl = *line.parsed;
  std::string mistake;
  const int latencyMicros = cl.get<int>("latency-us"), persistDelayMs = cl.get<int>("persist-delay-ms");
  if (!cl.has("socket")) mistake = "hnssim: --socket is required";
  else if (latencyMicros < 0)
    mistake = "hnssim: invalid --latency-us \"" + std::to_string(latencyMicros) + "\": want microseconds >= 0";
  else if (persistDelayMs < 0)
    mistake = "hnssim: invalid --persist-delay-ms \"" + std::to_string(persistDelayMs) + "\": want milliseconds >= 0";
  if (!mistake.empty()) {
    std::cerr << mistake << "\n" << optionsHelp(options);
    return 2;
  }
  const std::string socketPath = cl.get<std::string>("socket"), statePath = cl.get<std::string>("state"),
                    profileName = cl.get<std::string>("profile");
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
  sim.setSerial(cl.get<bool>("serial"));
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
