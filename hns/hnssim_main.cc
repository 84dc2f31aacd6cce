// hnssim: the HNS simulator as a daemon, so that HNS state outlives kube-proxy restarts as it
// does on Windows. Serves hns::Api on a Unix-domain socket; persists to a state file after every
// change (atomically) and on exit.
#include <charconv>
#include <csignal>
#include <filesystem>
#include <iostream>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>

#include "hns/cli.h"
#include "hns/sim_server.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;

static int run(int argc, char** argv) {
  CommandLine cl("hnssim");
  cl.flag("help", 'h', "print this help")
      .value("socket", 0, "Unix-domain socket to serve on (required)")
      .value("state", 0, "state file: loaded at start if present, written after every change")
      .value("profile", 0, "Windows build profile (default: from the state file's Version)")
      .value("latency-us", 0, "latency added to every call, microseconds", "0");
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
  int latencyMicros = 0;
  if (parsed) {
    const std::string v = cl.get("latency-us");
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), latencyMicros);
    if (ec != std::errc{} || end != v.data() + v.size() || latencyMicros < 0)
      parsed = Error{ErrorCode::InvalidInput, "hnssim: invalid --latency-us \"" + v + "\": want microseconds >= 0"};
  }
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
  auto persist = [&] {
    if (statePath.empty()) return;
    if (auto st = saveSnapshot(sim.snapshot(), statePath); !st) std::cerr << "hnssim: " << st.error().message << "\n";
  };
  boost::asio::io_context io;
  SimServer server(io, sim, socketPath, persist);
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
  persist();
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
