// kube-proxy (hnsproxy): see proxy/app.h. On Windows, --windows-service (or windowsRunAsService in
// the --config file) runs it under the service control manager.
#include <cstdlib>
#include <iostream>

#include "proxy/app.h"
#include "proxy/logging.h"
#include "proxy/options.h"
#include "proxy/process_metrics.h"
#include "proxy/windows_service.h"

int main(int argc, char** argv) {
  hnsproxy::proxy::tuneAllocator();
#ifdef _WIN32
  if (hnsproxy::proxy::runsAsWindowsService(argc, argv)) return hnsproxy::proxy::runAsWindowsService(argc, argv);
#endif
  int rc = hnsproxy::proxy::runKubeProxy(argc, argv, std::cout, std::cerr);
  // A stuck log reader (stderr pipe full) holds the stderr lock in the writer thread; exit() would
  // wait for it forever. Stop must be honoured: leave without flushing stdio.
  if (!hnsproxy::proxy::log::flush()) std::_Exit(rc);
  return rc;
}
