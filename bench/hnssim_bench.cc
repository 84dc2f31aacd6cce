// hnssim at scale: the time per call with 100 objects and with 100,000, with a state file (the
// daemon used to write its whole state after every change, so programming N objects through it
// cost O(N²)); and how soon a change is on disk.
//   hnssim_bench [OBJECTS=100000] [--json FILE]
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bench/spawn.h"
#include "hns/hcn_json.h"
#include "hns/sim/socket_api.h"
#include "hns/tools/cli.h"

using namespace hnsproxy;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double usSince(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

std::string endpointDoc(std::size_t i) {
  return nlohmann::json{{"Name", "ep" + std::to_string(i)},
                        {"Flags", 1},
                        {"IpConfigurations",
                         {{{"IpAddress", "10." + std::to_string(128 + i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                                             std::to_string(i % 256)}}}}}
      .dump();
}

}  // namespace

int main(int argc, char** argv) {
  hns::po::options_description options("options");
  options.add_options()  //
      ("objects", hns::po::value<int>()->default_value(100000), "objects in hnssim (at least 2,000; also positional)")
      ("json", hns::po::value<std::string>()->default_value("hnssim-bench.json"), "where the results go as JSON")
      ("no-state", hns::po::bool_switch(), "hnssim without a state file");
  auto line = hns::parseProgramCommandLine("hnssim_bench [OBJECTS] [options]", options, argc, argv, 0, {"objects"});
  if (!line.parsed) return line.exitCode;
  const std::size_t objects = static_cast<std::size_t>(std::max(2000, line.parsed->get<int>("objects")));
  const std::string jsonPath = line.parsed->get<std::string>("json");
  const bool withState = !line.parsed->get<bool>("no-state");
  const fs::path dir = fs::temp_directory_path() / ("hnssim-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string sock = (dir / "hns.sock").string(), state = (dir / "state.json").string();
  const std::string self = fs::read_symlink("/proc/self/exe").parent_path().string();
  std::vector<std::string> args{self + "/../hns/hnssim", "--socket", sock, "--profile", "ws2025-updated"};
  if (withState) args.insert(args.end(), {"--state", state});
  pid_t sim = bench::spawn(args, (dir / "hnssim.log").string());
  hns::SocketApi api(sock);
  for (int i = 0; i < 200 && !api.version(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  auto net = api.create(hns::ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
  if (!net) {
    std::fprintf(stderr, "hnssim_bench: %s\n", net.error().str().c_str());
    return 1;
  }
  // Time per create (create + close, as the programmer calls them), over the first 1,000 objects
  // and over the last 1,000.
  auto window = [&](std::size_t from, std::size_t to) {
    auto t = Clock::now();
    for (std::size_t i = from; i < to; ++i) {
      auto e = api.create(hns::ObjectKind::Endpoint, "", endpointDoc(i), *net);
      if (!e) throw std::runtime_error(e.error().str());
      api.close(*e);
    }
    return usSince(t) / static_cast<double>(to - from);
  };
  double small = window(0, 1000);
  auto fillStart = Clock::now();
  (void)window(1000, objects - 1000);
  double fillSeconds = usSince(fillStart) / 1e6;
  double large = window(objects - 1000, objects);
  // Durability: the last change is in the file within --persist-delay-ms (plus one write).
  auto lastChange = Clock::now();
  double durableMs = -1;
  if (withState) {
    std::error_code ec;
    auto seen = fs::last_write_time(state, ec);
    for (int i = 0; i < 3000 && durableMs < 0; ++i) {  // polled every 5 ms, for 15 s at most
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      auto now = fs::last_write_time(state, ec);
      if (ec || now == seen) continue;
      seen = now;
      double at = usSince(lastChange) / 1e3;  // a write finished: does it hold the last change?
      auto snap = hns::loadSnapshot(state);
      if (snap && snap->endpoints.size() == objects) durableMs = at;
    }
  }
  ::kill(sim, SIGTERM);
  int st = 0;
  ::waitpid(sim, &st, 0);
  bool complete = true;
  double fileMb = 0;
  if (withState) {
    auto final = hns::loadSnapshot(state);
    complete = final && final->endpoints.size() == objects;
    fileMb = static_cast<double>(fs::file_size(state)) / 1048576.0;
  }
  fs::remove_all(dir);

  std::printf("\nhnssim %s: time per create+close (socket round trips included)\n\n", withState ? "with a state file" : "without a state file");
  std::printf("  with %7zu objects: %8.1f us per call\n", std::size_t{1000}, small);
  std::printf("  with %7zu objects: %8.1f us per call (%.2fx)\n", objects, large, large / small);
  std::printf("  all %zu created in %.1f s; state file %.1f MB\n", objects, fillSeconds + (small + large) * 1000 / 1e6, fileMb);
  if (withState)
    std::printf("  last change on disk after %.0f ms (--persist-delay-ms 200); after SIGTERM: %s\n", durableMs,
                complete ? "every object in the file" : "OBJECTS MISSING");
  std::ofstream(jsonPath) << nlohmann::json{{"stateFile", withState}, {"objects", objects}, {"usPerCallAt1000", small}, {"usPerCallAtN", large},
                                            {"ratio", large / small}, {"durableMs", durableMs}, {"stateFileMb", fileMb},
                                            {"completeAfterSigterm", complete}}
                                 .dump(2)
                          << "\n";
  return complete && (durableMs >= 0 || !withState) ? 0 : 1;
}
