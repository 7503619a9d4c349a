#include "client/command_context.h"

#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace deepsweep::client {

CommandContext::CommandContext(CommandIo io, ResultsFileOpener open_results_file)
    : io_(io), open_results_file_(std::move(open_results_file)) {}

CommandContext::~CommandContext() = default;

absl::StatusOr<rpc::ClientOptions> CommandContext::ServerOptions() const {
  if (!(flags_.timeout_seconds > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout must be positive, got ", flags_.timeout_seconds));
  }
  rpc::ClientOptions options;
  options.target = flags_.server;
  options.token = flags_.token;
  options.ca_cert_path = flags_.tls_ca;
  options.tls = !flags_.tls_ca.empty();
  options.tls_server_name = flags_.tls_server_name;
  options.call_timeout = absl::Seconds(flags_.timeout_seconds);
  return options;
}

absl::StatusOr<rpc::CoordinatorClient*> CommandContext::Server() {
  if (server_ != nullptr) return server_.get();
  ASSIGN_OR_RETURN(const rpc::ClientOptions options, ServerOptions());
  ASSIGN_OR_RETURN(server_, rpc::ConnectCoordinator(options));
  return server_.get();
}

absl::StatusOr<rpc::CoordinatorClient*> CommandContext::Reader() {
  if (flags_.db.empty()) return Server();
  if (results_file_ != nullptr) return results_file_.get();
  if (!open_results_file_) {
    return absl::UnimplementedError("this build of deepsweep cannot read results files (--db)");
  }
  ASSIGN_OR_RETURN(results_file_, open_results_file_(flags_.db));
  return results_file_.get();
}

absl::StatusOr<rpc::CoordinatorClient*> CommandContext::Writer(std::string_view command) {
  if (!flags_.db.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(command),
                     " changes the sweep and needs the server (--server); --db only reads"));
  }
  return Server();
}

void CommandContext::Run(const std::function<absl::Status()>& action) {
  const absl::Status status = action();
  if (status.ok()) return;
  std::string message(status.message());
  // Transport failures carry gRPC's wording; say which server they concern.
  if (flags_.db.empty()) {
    if (status.code() == absl::StatusCode::kUnavailable) {
      message = absl::StrCat("cannot reach the coordinator at ", flags_.server, ": ", message);
    } else if (status.code() == absl::StatusCode::kUnauthenticated ||
               status.code() == absl::StatusCode::kPermissionDenied) {
      message =
          absl::StrCat("the coordinator at ", flags_.server, " refused the credentials: ", message);
    }
  }
  err() << "deepsweep: " << message << "\n";
  throw CLI::RuntimeError(1);
}

absl::StatusOr<SweepRecord> ResolveSweep(rpc::CoordinatorClient& coordinator,
                                         const std::string& ref) {
  SweepId id = 0;
  if (absl::SimpleAtoi(ref, &id)) {
    absl::StatusOr<SweepRecord> sweep = coordinator.GetSweep(id);
    if (sweep.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("no sweep ", id));
    }
    return sweep;
  }
  ASSIGN_OR_RETURN(std::vector<SweepRecord> sweeps, coordinator.ListSweeps());
  std::vector<SweepRecord> matches;
  for (SweepRecord& sweep : sweeps) {
    if (sweep.name == ref) matches.push_back(std::move(sweep));
  }
  if (matches.empty()) return absl::NotFoundError(absl::StrCat("no sweep named '", ref, "'"));
  if (matches.size() > 1) {
    std::vector<SweepId> ids;
    for (const SweepRecord& sweep : matches) ids.push_back(sweep.id);
    return absl::InvalidArgumentError(absl::StrCat("sweeps ", absl::StrJoin(ids, ", "),
                                                   " are all named '", ref, "': give an id"));
  }
  return std::move(matches.front());
}

void AddFormatOption(CLI::App* command, std::string* format) {
  command->add_option("--format", *format, "Output format: table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
}

absl::StatusOr<TrialId> ParseTrialId(const std::string& text) {
  TrialId id = 0;
  if (!absl::SimpleAtoi(text, &id) || id <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a trial id (a positive integer)"));
  }
  return id;
}

}  // namespace deepsweep::client
