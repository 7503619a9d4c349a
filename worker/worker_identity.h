// WorkerIdentity: what a worker process tells the coordinator about itself
// (host, pid, version, cores), for `deepsweep workers`.
//
// Thread-safety: pure reads of process and host facts.
#ifndef DEEPSWEEP_WORKER_WORKER_IDENTITY_H_
#define DEEPSWEEP_WORKER_WORKER_IDENTITY_H_

#include <string>

#include "core/coordinator.h"

namespace deepsweep::worker {

// The version compiled into the worker (the CMake project version).
std::string WorkerVersion();

// This process's identity. worker_id is "host:pid", or "host:pid/N" for the
// N-th worker of a process that runs several (embedded mode; slot >= 1).
WorkerInfo DescribeThisWorker(int slot = 0);

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_WORKER_WORKER_IDENTITY_H_
