#include "worker/worker_identity.h"

#include <unistd.h>

#include <array>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ml/kernels.h"

namespace deepsweep::worker {

std::string WorkerVersion() { return DEEPSWEEP_VERSION; }

WorkerInfo DescribeThisWorker(int slot) {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  WorkerInfo info;
  info.host = host[0] != '\0' ? std::string(host.data()) : "unknown-host";
  info.pid = static_cast<int64_t>(getpid());
  info.version = WorkerVersion();
  info.cores = static_cast<int>(std::thread::hardware_concurrency());
  info.compute_path = ml::ComputePath();
  info.worker_id = absl::StrCat(info.host, ":", info.pid);
  if (slot > 0) absl::StrAppend(&info.worker_id, "/", slot);
  return info;
}

}  // namespace deepsweep::worker
