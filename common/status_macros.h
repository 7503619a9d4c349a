// Status propagation macros for absl::Status / absl::StatusOr<T>.
//
// abseil 20220623 (Debian 12) has StatusOr but no public propagation macros, so
// they are defined once here. Both evaluate their argument exactly once.
//
//   RETURN_IF_ERROR(store->Put(x));            // returns the Status if !ok()
//   ASSIGN_OR_RETURN(auto spec, ParseSpec(y)); // returns the Status if !ok()
//
// Thread-safety: macros only; no state.
#ifndef DEEPSWEEP_COMMON_STATUS_MACROS_H_
#define DEEPSWEEP_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DS_STATUS_CONCAT_INNER_(a, b) a##b
#define DS_STATUS_CONCAT_(a, b) DS_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::absl::Status ds_status_ = (expr);      \
    if (!ds_status_.ok()) return ds_status_; \
  } while (false)

#define ASSIGN_OR_RETURN(lhs, expr) \
  DS_ASSIGN_OR_RETURN_IMPL_(DS_STATUS_CONCAT_(ds_statusor_, __LINE__), lhs, expr)

#define DS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)     \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // DEEPSWEEP_COMMON_STATUS_MACROS_H_
