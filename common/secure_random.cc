#include "common/secure_random.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace deepsweep {
namespace {

bool ReadUrandom(void* out, size_t size) {
  const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, static_cast<char*>(out) + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  return done == size;
}

}  // namespace

uint64_t SecureRandom64() {
  uint64_t value = 0;
  size_t done = 0;
  while (done < sizeof(value)) {
    const ssize_t n = getrandom(reinterpret_cast<char*>(&value) + done, sizeof(value) - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // ENOSYS on a kernel older than 3.17
    done += static_cast<size_t>(n);
  }
  if (done == sizeof(value) || ReadUrandom(&value, sizeof(value))) return value;
  std::fprintf(stderr, "fatal: no random bytes from getrandom(2) or /dev/urandom: %s\n",
               std::strerror(errno));
  std::abort();
}

}  // namespace deepsweep
