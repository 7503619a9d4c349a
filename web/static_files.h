// The dashboard's own static files (web/static/), embedded into the binary at
// build time by web/embed_static.cmake, so a server needs no install
// directory for them.
//
// Thread-safety: immutable data.
#ifndef DEEPSWEEP_WEB_STATIC_FILES_H_
#define DEEPSWEEP_WEB_STATIC_FILES_H_

#include <string_view>

#include "absl/types/span.h"

namespace deepsweep::web {

struct StaticFile {
  std::string_view name;  // file name under web/static/, e.g. "dashboard.js"
  std::string_view content_type;
  std::string_view body;
};

absl::Span<const StaticFile> StaticFiles();

// The file called `name`, or nullptr.
const StaticFile* FindStaticFile(std::string_view name);

}  // namespace deepsweep::web

#endif  // DEEPSWEEP_WEB_STATIC_FILES_H_
