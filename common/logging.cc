#include "common/logging.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace deepsweep {

absl::Status InitLogging(const LoggingOptions& options) {
  const spdlog::level::level_enum level = spdlog::level::from_str(options.level);
  // from_str maps anything unknown to "off"; only accept "off" when asked for.
  if (level == spdlog::level::off && options.level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown log level '", options.level,
                     "' (want trace, debug, info, warn, error, critical or off)"));
  }
  std::shared_ptr<spdlog::logger> logger = options.to_stderr
                                               ? spdlog::stderr_color_mt(options.program)
                                               : spdlog::stdout_color_mt(options.program);
  logger->set_level(level);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%n] %v");
  spdlog::set_default_logger(std::move(logger));
  return absl::OkStatus();
}

}  // namespace deepsweep
