// SecureRandom64: 64 bits from the operating system's CSPRNG (getrandom(2)),
// for values an attacker must not predict (lease ids). Not seeded and not
// reproducible by design: simulation draws use seeded generators instead
// (SplitMix64 in core/, Rng in ml/).
//
// Thread-safety: safe to call from any thread.
#ifndef DEEPSWEEP_COMMON_SECURE_RANDOM_H_
#define DEEPSWEEP_COMMON_SECURE_RANDOM_H_

#include <cstdint>

namespace deepsweep {

// Blocks only until the kernel's pool is initialised (early boot). Should the
// kernel refuse (no getrandom and no /dev/urandom), the process aborts with
// a message: there is no safe fallback.
uint64_t SecureRandom64();

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_SECURE_RANDOM_H_
