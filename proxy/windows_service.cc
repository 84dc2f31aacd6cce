#ifdef _WIN32

#include "proxy/windows_service.h"

#include <windows.h>

#include <atomic>
#include <iostream>
#include <sstream>

#include "proxy/app.h"

namespace hnsproxy::proxy {

namespace {

SERVICE_STATUS_HANDLE gStatusHandle = nullptr;
SERVICE_STATUS gStatus{};
std::atomic<bool> gStop{false};
int gArgc = 0;
char** gArgv = nullptr;
int gExit = 0;

void report(DWORD state, DWORD exitCode = NO_ERROR, DWORD waitHint = 0) {
  gStatus.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  gStatus.dwCurrentState = state;
  gStatus.dwWin32ExitCode = exitCode;
  gStatus.dwWaitHint = waitHint;
  gStatus.dwControlsAccepted = state == SERVICE_START_PENDING ? 0 : SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN;
  if (gStatusHandle) SetServiceStatus(gStatusHandle, &gStatus);
}

DWORD WINAPI control(DWORD code, DWORD, LPVOID, LPVOID) {
  switch (code) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
      report(SERVICE_STOP_PENDING, NO_ERROR, 5000);
      gStop = true;
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      report(gStatus.dwCurrentState);
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void WINAPI serviceMain(DWORD, LPSTR*) {
  // The name is ignored for SERVICE_WIN32_OWN_PROCESS services.
  gStatusHandle = RegisterServiceCtrlHandlerExA("kube-proxy", control, nullptr);
  if (!gStatusHandle) return;
  report(SERVICE_START_PENDING, NO_ERROR, 3000);
  report(SERVICE_RUNNING);
  // A service has no console: messages go to the log (use --log-file or a wrapper).
  std::ostringstream out, err;
  gExit = runKubeProxy(gArgc, gArgv, out, err, [] { return gStop.load(); });
  // A failure (a bad flag, a start-up error) is a service-specific error carrying the exit code,
  // which `sc query` shows as SERVICE_EXIT_CODE and the SCM's failure actions act on.
  gStatus.dwServiceSpecificExitCode = static_cast<DWORD>(gExit);
  report(SERVICE_STOPPED, gExit == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR);
}

}  // namespace

int runAsWindowsService(int argc, char** argv) {
  gArgc = argc;
  gArgv = argv;
  char name[] = "kube-proxy";
  SERVICE_TABLE_ENTRYA table[] = {{name, serviceMain}, {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherA(table)) {
    std::cerr << "failed os init: the service control manager did not start this process (error " << GetLastError()
              << "); run without --windows-service outside the SCM\n";
    return 1;
  }
  return gExit;
}

}  // namespace hnsproxy::proxy

#endif  // _WIN32
