// The kube-proxy program: everything main() does, callable from tests with arguments and
// streams. Returns the process exit code.
#pragma once

#include <functional>
#include <iosfwd>

namespace hnsproxy::proxy {

// `externalStop`, when set, is polled to end the daemon (tests; the Windows service stop).
int runKubeProxy(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                 std::function<bool()> externalStop = {});

}  // namespace hnsproxy::proxy
