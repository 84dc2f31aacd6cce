// The process families every Prometheus client serves, with client_golang's names, types and
// meanings (dashboards and alerts written for upstream kube-proxy query them), and
// kubernetes_build_info as component-base registers it:
//   process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
//   process_start_time_seconds, process_open_fds, process_max_fds
// On Linux from /proc and getrlimit; on Windows as client_golang's Windows collector reads them
// (GetProcessTimes, the working set and private bytes, the handle count, 16M handles).
#pragma once

#include <string>

#include "proxy/exposition.h"

namespace hnsproxy::proxy {

struct ProcessStats {
  double cpuSeconds = 0;
  double residentBytes = 0;
  double virtualBytes = 0;
  double startTimeSeconds = 0;  // Unix time
  double openFds = 0;
  double maxFds = 0;
};

// This process, now. Fields that cannot be read stay 0.
ProcessStats readProcessStats();
// The families above, through the exposition writer.
void writeProcessMetrics(Exposition& out);
void writeBuildInfo(Exposition& out);

// The allocator, for a long-running daemon with a few busy threads (glibc; elsewhere nothing):
// at most two malloc arenas — the reflectors, the sync loop and the programmer's workers would each
// get one, and memory freed in one arena is not reused by the others — and large blocks always
// mapped apart from the heap; set once at start.
void tuneAllocator();
// After a large piece of work (a start-up listing, a mass change, a large manifest file) has freed
// most of what it allocated in holes between long-lived state: hand the free pages back, so the
// resident size follows what the proxy holds, not its high-water mark (glibc's malloc_trim, the
// Windows CRT's _heapmin; elsewhere nothing).
void releaseFreedMemory();

}  // namespace hnsproxy::proxy
