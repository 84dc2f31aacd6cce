// Running the real binaries from tests: one-shot commands and daemons (SIGTERM to stop).
#pragma once

#include "eventually.h"

#include "test_paths.h"

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hnsproxy::test {

inline std::string bin(const std::string& name) { return binaryDir() + "/" + name; }

struct Run {
  int status = -1;
  std::string out;
};

// Runs a shell command line; stdout and stderr together.
inline Run run(const std::string& cmd) {
  Run r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class Daemon {
 public:
  Daemon(std::vector<std::string> argv, std::string logPath) : log_(std::move(logPath)) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      // Nothing of the test process leaks into the daemon (sockets it holds, say).
      for (int other = 3; other < 1024; ++other) ::close(other);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Daemon() { stop(); }
  // SIGTERM, then the exit status (-1 if it had to be killed).
  int stop() {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        pid_ = -1;
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return status_ = -1;
  }
  // SIGKILL: no chance to clean up (a crash, a power cut, a killed service).
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    status_ = -1;
  }
  bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      pid_ = -1;
      return false;
    }
    return true;
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_;
};


// The port a daemon logged for a listener it bound ("Serving healthz" ... port=N): servers in
// tests bind port 0 and report what the OS gave them. 0 when it did not say within the timeout.
inline unsigned short servedPort(const Daemon& d, const std::string& what,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  unsigned short port = 0;
  eventually(
      [&] {
        std::string log = d.log();
        auto at = log.find("\"Serving " + what + "\"");
        if (at == std::string::npos) return false;
        auto p = log.find("port=", at);
        if (p == std::string::npos || p > log.find('\n', at)) return false;
        port = static_cast<unsigned short>(std::stoi(log.substr(p + 5)));
        return true;
      },
      timeout);
  return port;
}

inline std::filesystem::path tempDir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("hnsproxy-e2e-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace hnsproxy::test
