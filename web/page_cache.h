// PageCache: the dashboard's JSON pages, each computed at most once per change
// of the data it shows and at most once per min_interval, however many open
// dashboards poll it (issue 16: five open pages must not cost the coordinator
// its throughput).
//
// A page is named by a key (its path and query) and asked for at a version:
// a number that moves whenever the data it shows change (the coordinator's
// sweep_version() or version()). Get() serves the kept page when
//   - it was computed at that version and is younger than max_age (pages also
//     show what time alone moves: an ETA, a worker's silence), or
//   - it is younger than min_interval (a page whose data change all the time,
//     as under load, is computed once per min_interval), or
//   - another caller is computing it now (viewers do not queue behind one
//     computation; a caller finding nothing kept waits for that one instead);
// otherwise the caller computes it, outside the cache's lock, and keeps it.
// So a page served at time T shows every change committed before
// T - min_interval - (one computation's time). Errors are never kept.
//
// Every kept page carries an ETag derived from its bytes (length and CRC-32),
// so equal bodies have equal tags across computations and server restarts.
//
// Time: the injected Clock. Thread-safety: every method may be called
// concurrently.
#ifndef DEEPSWEEP_WEB_PAGE_CACHE_H_
#define DEEPSWEEP_WEB_PAGE_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace deepsweep::web {

struct PageCacheOptions {
  // A page is computed at most once per this long. The dashboard polls every
  // second, so a change reaches an open page within min_interval + 1 s plus
  // a computation (the 2 s the dashboard promises, with room).
  absl::Duration min_interval = absl::Milliseconds(500);
  // A page whose data did not change is still recomputed once this old.
  absl::Duration max_age = absl::Seconds(5);
  // Most pages kept; beyond it the least recently asked for goes.
  size_t max_pages = 256;
};

struct CachedPage {
  std::string body;
  std::string etag;  // a strong HTTP entity tag, quotes included
  uint64_t version = 0;
  absl::Time computed_at;
};

// The HTTP entity tag of `body`: "\"<length>-<crc32>\"" in hex.
std::string EntityTag(std::string_view body);

class PageCache {
 public:
  // `clock` must outlive the cache.
  explicit PageCache(const Clock* clock, PageCacheOptions options = {});

  // The page `key` at `version`, from the cache or from `compute` (see the
  // rules above). `version` must be read before the data `compute` reads.
  // Returns compute's error when it fails (nothing kept).
  absl::StatusOr<std::shared_ptr<const CachedPage>> Get(
      const std::string& key, uint64_t version,
      absl::FunctionRef<absl::StatusOr<std::string>()> compute);

  // How many times Get computed a page, and served one it kept.
  struct Stats {
    int64_t computed = 0;
    int64_t served_kept = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::shared_ptr<const CachedPage> page;  // null until first computed
    bool computing = false;
    absl::Time last_asked;
  };
  // Drops the least recently asked-for pages beyond max_pages (never one
  // being computed).
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  const PageCacheOptions options_;
  mutable absl::Mutex mu_;
  absl::CondVar computed_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace deepsweep::web

#endif  // DEEPSWEEP_WEB_PAGE_CACHE_H_
