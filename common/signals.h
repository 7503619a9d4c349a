// Termination signals (SIGTERM, SIGINT) for a graceful shutdown of the
// programs (deepsweep-server, deepsweep-worker, deepsweep run).
//
// InstallTerminationHandlers() replaces the default action (exit at once) of
// both signals with a handler that records the signal in a self-pipe, so a
// thread can wait for it without signal masks and without races.
//
// Thread-safety: installation happens once per process (later calls return
// the same descriptor); the handler is async-signal-safe.
#ifndef DEEPSWEEP_COMMON_SIGNALS_H_
#define DEEPSWEEP_COMMON_SIGNALS_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace deepsweep {

// Installs the handlers. Returns INTERNAL when the pipe or sigaction fails.
absl::Status InstallTerminationHandlers();

// Also sends SIGHUP through the same pipe (deepsweep-server reloads its
// credentials on it) instead of its default action (exit). Requires
// InstallTerminationHandlers(); INTERNAL when sigaction fails.
absl::Status InstallReloadHandler();

// Waits up to `timeout` for a termination (or, once installed, reload) signal
// since the last one consumed;
// returns its number, or nullopt when none arrived. Requires
// InstallTerminationHandlers().
std::optional<int> WaitForTerminationSignal(absl::Duration timeout);

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_SIGNALS_H_
