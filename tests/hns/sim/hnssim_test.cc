#include "catch.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "test_paths.h"

#include <csignal>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>

#include "hns/reconcile/reconciler.h"
#include "hns/sim/sim_protocol.h"
#include "hns/sim/sim_server.h"
#include "hns/sim/socket_api.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using nlohmann::json;

namespace {

std::string tempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("hnsproxy-sim-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

struct RunningServer {
  boost::asio::io_context io;
  SimulatedHns sim;
  SimServer server;
  std::thread thread;
  int mutations = 0;
  RunningServer(const std::string& path, const std::string& profile)
      : sim(*profileByName(profile)), server(io, sim, path, [this] { ++mutations; }) {
    REQUIRE(server.start());
    thread = std::thread([this] { io.run(); });
  }
  ~RunningServer() {
    boost::asio::post(io, [this] {
      server.stop();
      io.stop();
    });
    thread.join();
  }
};

}  // namespace

TEST_CASE("hnssim protocol: bad requests get HNS-style errors, never a crash") {
  SimulatedHns sim(*profileByName("ws2022"));
  const char* bad[] = {"", "not json", "[]", R"({"no":"op"})", R"({"op":42})", R"({"op":"explode"})",
                       R"({"op":"create","kind":"Widget"})", R"({"op":"create","kind":"LoadBalancer","settings":"{"})",
                       R"({"op":"query","handle":"x"})", R"({"op":"open","kind":"Network","id":"nope"})"};
  for (const char* line : bad) {
    INFO(line);
    auto resp = json::parse(handleSimRequest(sim, line));
    CHECK(resp["ok"] == false);
    CHECK(resp["hresult"].get<std::uint32_t>() != 0);
    CHECK_FALSE(resp["error"].get<std::string>().empty());
  }
  bool mutated = false;
  auto ok = json::parse(handleSimRequest(sim, R"({"op":"create","kind":"Network","settings":"{\"Name\":\"n\"}"})", &mutated));
  CHECK(ok["ok"] == true);
  CHECK(mutated);
}

TEST_CASE("hnssim over a real Unix socket: the reconciler works through it and state outlives clients") {
  std::string path = tempPath("hns.sock");
  RunningServer srv(path, "ws2025-updated");
  {
    SocketApi api(path);
    auto net = api.create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
    REQUIRE(net);
    auto e = api.create(ObjectKind::Endpoint, "", R"({"IpConfigurations":[{"IpAddress":"10.244.1.10"}]})", *net);
    REQUIRE(e);
    auto v = api.version();
    REQUIRE(v);
    CHECK(*v == policy::HnsVersion{15, 6});
    srv.sim.setHostAdapters({{"Ethernet", "00-0D-3A-0A-00-04", {*policy::IpAddress::parse("10.0.0.4")}}});
    auto adapters = api.hostAdapters();  // the simulator's host adapters, over the socket
    REQUIRE(adapters);
    REQUIRE(adapters->size() == 1);
    CHECK((*adapters)[0].mac == "00-0D-3A-0A-00-04");
    CHECK((*adapters)[0].ips == std::vector<policy::IpAddress>{*policy::IpAddress::parse("10.0.0.4")});
    auto missing = api.open(ObjectKind::LoadBalancer, "AAAAAAAA-0000-4000-8000-000000000000");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::NotFound);
    CHECK(missing.error().hresult == hcn::kErrorNotFound);
  }
  // A kube-proxy run programs one service; a second run (a new process) adopts it with no mutation.
  for (int run = 0; run < 2; ++run) {
    SocketApi api(path);
    ReconcilerOptions o;
    o.networkName = "cbr0";
    o.node.nodeName = "n";
    o.node.bindAddress = policy::IpAddress::parse("10.0.0.4");
    Reconciler r(api, o);
    REQUIRE(r.start([] { return false; }, {}));
    policy::Service s;
    s.id = {"default", "web"};
    s.clusterIPs = {*policy::IpAddress::parse("10.96.0.1")};
    s.ports = {policy::ServicePort{"http", policy::Protocol::TCP, 80, std::uint16_t{8080}, 0}};
    r.engine().upsertService(s);
    policy::EndpointSlice es;
    es.ns = "default";
    es.name = "web-1";
    es.serviceName = "web";
    es.ports = {policy::EndpointPort{std::string("http"), policy::Protocol::TCP, 8080}};
    policy::Endpoint e;
    e.address = *policy::IpAddress::parse("10.244.1.10");
    e.nodeName = "n";
    es.endpoints = {e};
    r.engine().upsertSlice(es);
    int before = srv.mutations;
    auto rep = r.sync();
    CHECK(rep.ok());
    CHECK(srv.mutations - before == (run == 0 ? 1 : 0));
  }
}

TEST_CASE("SocketApi: an absent or vanished daemon is a transient error, and it reconnects") {
  std::string path = tempPath("gone.sock");
  SocketApi api(path);
  auto r = api.version();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::Transient);
  {
    RunningServer srv(path, "ws2022");
    CHECK(api.version());
  }
  CHECK_FALSE(api.version());  // the daemon stopped
  RunningServer again(path, "ws2022");
  CHECK(api.version());  // reconnected
}

TEST_CASE("the hnssim daemon persists its state file and stops cleanly on SIGTERM") {
  std::string sock = tempPath("daemon.sock");
  std::string state = tempPath("daemon-state.json");
  std::filesystem::remove(state);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string bin = hnsproxy::test::binaryDir() + "/hns/hnssim";
    ::execl(bin.c_str(), bin.c_str(), "--socket", sock.c_str(), "--state", state.c_str(), "--profile", "ws2019",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  SocketApi api(sock);
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {  // wait for the daemon to bind (bounded: 10 s)
    up = api.version().ok();
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(up);
  auto net = api.create(ObjectKind::Network, "", R"({"Name":"vxlan0","Type":"Overlay"})", 0);
  REQUIRE(net);
  // Written within --persist-delay-ms (200 ms by default) of the change, not at exit only.
  std::optional<HnsSnapshot> saved;
  for (int i = 0; i < 100 && !(saved && saved->networks.size() == 1); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::filesystem::exists(state))
      if (auto l = loadSnapshot(state)) saved = std::move(*l);
  }
  REQUIRE(saved);
  CHECK(saved->networks.size() == 1);
  CHECK(saved->version == policy::HnsVersion{9, 5});
  // A burst right before SIGTERM: every change of it is in the file the daemon leaves.
  for (int i = 0; i < 300; ++i) {
    auto ep = api.create(ObjectKind::Endpoint, "", R"({"Name":"ep)" + std::to_string(i) + R"(","IpConfigurations":[{"IpAddress":"10.1.)" +
                                                       std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + R"("}]})",
                         *net);
    REQUIRE(ep);
    api.close(*ep);
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_FALSE(std::filesystem::exists(sock));
  auto final = loadSnapshot(state);
  REQUIRE(final);
  CHECK(final->endpoints.size() == 300);
}

// A sanitizer's runtime needs descriptors of its own: with all of them taken by the flood it aborts
// the server, whatever the server does. The plain build runs this test; the sanitizer builds run
// every other hnssim test.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HNSPROXY_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HNSPROXY_SANITIZED 1
#endif
#ifndef HNSPROXY_SANITIZED
TEST_CASE("hnssim keeps accepting after a flood of clients exhausted its descriptors") {
  std::string sock = tempPath("flood.sock");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    struct rlimit lim {48, 48};  // a few dozen descriptors: the flood below runs it out
    ::setrlimit(RLIMIT_NOFILE, &lim);
    std::string bin = hnsproxy::test::binaryDir() + "/hns/hnssim";
    ::execl(bin.c_str(), bin.c_str(), "--socket", sock.c_str(), "--profile", "ws2022", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  SocketApi api(sock);
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    up = api.version().ok();
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(up);
  // 120 connections held open: past the daemon's 48 descriptors, its accepts fail (EMFILE).
  std::vector<int> flood;
  for (int i = 0; i < 120; ++i) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);  // the backlog is full too
      continue;
    }
    flood.push_back(fd);
  }
  CHECK(flood.size() > 48);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the daemon hits EMFILE meanwhile
  for (int fd : flood) ::close(fd);
  // A new client is served once descriptors are free again (before the fix: never). Asked over a
  // raw socket with a receive timeout, so a server that stopped accepting fails the test rather
  // than hanging it.
  auto askVersion = [&] {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      const std::string req = "{\"op\":\"version\"}\n";
      if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
        char buf[512];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) reply.assign(buf, static_cast<std::size_t>(n));
      }
    }
    ::close(fd);
    return reply.find("Major") != std::string::npos;
  };
  bool served = false;
  for (int i = 0; i < 10 && !served; ++i) served = askVersion();
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(served);
  CHECK(WIFEXITED(status));
}
#endif  // sanitizers

TEST_CASE("hnssim refuses a bad --persist-delay-ms") {
  std::string bin = hnsproxy::test::binaryDir() + "/hns/hnssim";
  std::string out = tempPath("persist-delay.out");
  int rc = std::system((bin + " --socket " + tempPath("x.sock") + " --persist-delay-ms -5 >" + out + " 2>&1").c_str());
  CHECK(WEXITSTATUS(rc) == 2);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("invalid --persist-delay-ms \"-5\"") != std::string::npos);
}

TEST_CASE("hnssim refuses a socket another hnssim serves, never deletes what is not a socket, replaces a stale one") {
  std::string path = tempPath("taken.sock");
  RunningServer first(path, "ws2022");
  {
    boost::asio::io_context io;
    SimulatedHns sim(*profileByName("ws2022"));
    SimServer second(io, sim, path, {});
    auto st = second.start();
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find("another hnssim is serving") != std::string::npos);
  }
  SocketApi api(path);
  CHECK(api.version());  // the first one still serves, its socket intact

  std::string file = tempPath("not-a-socket");
  std::ofstream(file) << "keep me";
  {
    boost::asio::io_context io;
    SimulatedHns sim(*profileByName("ws2022"));
    SimServer s(io, sim, file, {});
    auto st = s.start();
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find("is not a socket; not removed") != std::string::npos);
  }
  std::ifstream in(file);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(body == "keep me");

  std::string stale = tempPath("stale.sock");
  {  // a socket file left by a process that died without cleaning up
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::acceptor a(io, boost::asio::local::stream_protocol::endpoint(stale));
  }
  REQUIRE(std::filesystem::exists(stale));
  RunningServer fresh(stale, "ws2022");  // REQUIREs a successful start
  CHECK(SocketApi(stale).version());
}
