#include "client/commands/health.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/health_check.h"

namespace deepsweep::client {

absl::Status CheckServerHealth(CommandContext& context, const std::string& service) {
  ASSIGN_OR_RETURN(const rpc::ClientOptions options, context.ServerOptions());
  ASSIGN_OR_RETURN(const rpc::ServingStatus status, rpc::CheckHealth(options, service));
  const std::string name(rpc::ServingStatusName(status));
  if (status != rpc::ServingStatus::kServing) {
    // Not UNAVAILABLE: the server answered, it is just not serving.
    return absl::FailedPreconditionError(absl::StrCat(service.empty() ? "the server" : service,
                                                      " at ", options.target, " is ", name));
  }
  context.out() << name << '\n';
  return absl::OkStatus();
}

void AddHealthCommand(CLI::App& app, CommandContext& context) {
  auto service = std::make_shared<std::string>();
  CLI::App* health = app.add_subcommand(
      "health", "Ask the server's gRPC health service; exit 0 only when it is SERVING");
  health->add_option("--service", *service, "A service name (default: the server as a whole)");
  health->callback(
      [&context, service] { context.Run([&] { return CheckServerHealth(context, *service); }); });
}

}  // namespace deepsweep::client
