// FUZZ_CHECK: the property checks of the fuzz targets. A failed check prints
// what failed and aborts, which libFuzzer records as a crash (with the input)
// and which fails the corpus replay test under any compiler.
#ifndef DEEPSWEEP_TESTS_FUZZ_FUZZ_CHECK_H_
#define DEEPSWEEP_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, ...)                                                            \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #condition); \
      std::fprintf(stderr, __VA_ARGS__);                                                      \
      std::fputc('\n', stderr);                                                               \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

#endif  // DEEPSWEEP_TESTS_FUZZ_FUZZ_CHECK_H_
