// kube-proxy (hnsproxy): see proxy/app.h. On Windows, --windows-service runs under the SCM.
#include <iostream>

#include "proxy/app.h"
#include "proxy/windows_service.h"

int main(int argc, char** argv) {
#ifdef _WIN32
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--windows-service" || a == "--windows-service=true" || a == "--windows_service" ||
        a == "--windows_service=true")
      return hnsproxy::proxy::runAsWindowsService(argc, argv);
  }
#endif
  return hnsproxy::proxy::runKubeProxy(argc, argv, std::cout, std::cerr);
}
