#include "web/page_cache.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "common/crc32.h"

namespace deepsweep::web {

std::string EntityTag(std::string_view body) {
  return absl::StrFormat("\"%x-%08x\"", body.size(), Crc32(body));
}

PageCache::PageCache(const Clock* clock, PageCacheOptions options)
    : clock_(clock), options_(options) {}

absl::StatusOr<std::shared_ptr<const CachedPage>> PageCache::Get(
    const std::string& key, uint64_t version,
    absl::FunctionRef<absl::StatusOr<std::string>()> compute) {
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    while (true) {
      Entry& e = entries_[key];
      e.last_asked = now;
      if (e.page != nullptr) {
        const absl::Duration age = now - e.page->computed_at;
        if ((e.page->version == version && age < options_.max_age) || age < options_.min_interval ||
            e.computing) {
          ++stats_.served_kept;
          return e.page;
        }
      } else if (e.computing) {
        computed_.Wait(&mu_);
        continue;
      }
      e.computing = true;
      break;
    }
  }
  absl::StatusOr<std::string> body = compute();
  absl::MutexLock lock(&mu_);
  ++stats_.computed;
  computed_.SignalAll();
  Entry& e = entries_[key];  // never evicted while computing
  e.computing = false;
  if (!body.ok()) {
    if (e.page == nullptr) entries_.erase(key);
    return body.status();
  }
  auto page = std::make_shared<CachedPage>();
  page->etag = EntityTag(*body);
  page->body = *std::move(body);
  page->version = version;
  page->computed_at = now;
  e.page = page;
  EvictLocked();
  return std::shared_ptr<const CachedPage>(std::move(page));
}

void PageCache::EvictLocked() {
  while (entries_.size() > options_.max_pages) {
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (!it->second.computing &&
          (oldest == entries_.end() || it->second.last_asked < oldest->second.last_asked)) {
        oldest = it;
      }
    }
    if (oldest == entries_.end()) return;
    entries_.erase(oldest);
  }
}

PageCache::Stats PageCache::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace deepsweep::web
