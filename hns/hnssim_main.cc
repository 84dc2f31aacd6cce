// hnssim: the HNS simulator as a daemon, so that HNS state outlives kube-proxy restarts as it
// does on Windows. Serves hns::Api on a Unix-domain socket; persists to a state file after every
// change (atomically) and on exit.
#include <csignal>
#include <filesystem>
#include <iostream>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>
#include <boost/program_options.hpp>

#include "hns/sim_server.h"

namespace po = boost::program_options;
using namespace hnsproxy;
using namespace hnsproxy::hns;

int main(int argc, char** argv) {
  std::string socketPath, statePath, profileName;
  int latencyMicros = 0;
  po::options_description desc("hnssim options");
  desc.add_options()("help,h", "print this help")(
      "socket", po::value(&socketPath)->required(), "Unix-domain socket to serve on")(
      "state", po::value(&statePath), "state file: loaded at start if present, written after every change")(
      "profile", po::value(&profileName), "Windows build profile (default: from the state file's Version)")(
      "latency-us", po::value(&latencyMicros)->default_value(0), "latency added to every call, microseconds");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\nprofiles:";
      for (const auto& p : profiles()) std::cout << " " << p.name;
      std::cout << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "hnssim: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
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
