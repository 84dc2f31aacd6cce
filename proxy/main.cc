// kube-proxy (hnsproxy): see proxy/app.h. On Windows, --windows-service (or windowsRunAsService in
// the --config file) runs it under the service control manager.
#include <iostream>

#include "proxy/app.h"
#include "proxy/options.h"
#include "proxy/windows_service.h"

int main(int argc, char** argv) {
#ifdef _WIN32
  if (hnsproxy::proxy::runsAsWindowsService(argc, argv)) return hnsproxy::proxy::runAsWindowsService(argc, argv);
#endif
  return hnsproxy::proxy::runKubeProxy(argc, argv, std::cout, std::cerr);
}
