// Asks grpc.health.v1.Health/Check over a channel without generated code: the
// request for the whole server is the empty message, and the response
// HealthCheckResponse{status: SERVING} is the two bytes 0x08 0x01.
#ifndef DEEPSWEEP_TESTS_SERVER_HEALTH_PROBE_H_
#define DEEPSWEEP_TESTS_SERVER_HEALTH_PROBE_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace deepsweep::server::testing {

// Sends `request` bytes to `method` and returns the status and response bytes.
inline grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& method, const std::string& request,
                            std::string* response) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    (void)response_buffer.Dump(&slices);
    response->clear();
    for (const grpc::Slice& s : slices) {
      response->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return status;
}

// True when the server answers the overall health check with SERVING.
inline bool IsServing(const std::shared_ptr<grpc::Channel>& channel) {
  std::string response;
  grpc::Status status = CallRaw(channel, "/grpc.health.v1.Health/Check", "", &response);
  return status.ok() && response == std::string("\x08\x01", 2);
}

}  // namespace deepsweep::server::testing

#endif  // DEEPSWEEP_TESTS_SERVER_HEALTH_PROBE_H_
