// Where a file dataset's files are when a sweep spec gives no dataset.path.
// Shared by the worker's loader (ml/data) and the coordinator's spec check
// (core/sweep_spec), so a spec the coordinator accepts is one the workers can
// locate.
//
// Thread-safety: a pure function.
#ifndef DEEPSWEEP_COMMON_DATASET_PATHS_H_
#define DEEPSWEEP_COMMON_DATASET_PATHS_H_

#include <string>
#include <string_view>

namespace deepsweep {

// /usr/share/datasets/fashion-mnist for "fashion-mnist" (Debian package
// dataset-fashion-mnist); empty for the others: mnist and cifar10 need a
// path, and shapeset is generated, not read.
inline std::string DefaultDatasetPath(std::string_view name) {
  if (name == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  return "";
}

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_DATASET_PATHS_H_
