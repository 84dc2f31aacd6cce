// Starting a tool as a child process for the Linux benchmarks (soak, hnssim_bench): stdout and
// stderr to a log file, no other descriptor inherited.
#pragma once

#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace hnsproxy::bench {

inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    for (int other = 3; other < 1024; ++other) ::close(other);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace hnsproxy::bench
