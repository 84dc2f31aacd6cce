// --windows-service: run under the Service Control Manager (as kubernetes pkg/windows/service does). The service
// reports StartPending, then Running; Stop and Shutdown end the proxy cleanly (programmed HNS
// state stays in place) and report Stopped. Windows only.
#pragma once

namespace hnsproxy::proxy {

#ifdef _WIN32
int runAsWindowsService(int argc, char** argv);
#endif

}  // namespace hnsproxy::proxy
