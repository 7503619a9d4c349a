#include "rpc/health_check.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "rpc/channel.h"
#include "rpc/status.h"

namespace deepsweep::rpc {
namespace {

constexpr char kCheckMethod[] = "/grpc.health.v1.Health/Check";

// Protobuf wire format: a key is (field_number << 3) | wire_type.
constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

void AppendVarint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

// Reads a varint at `pos`, advancing it; false when truncated or too long.
bool ReadVarint(std::string_view bytes, size_t& pos, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && pos < bytes.size(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(bytes[pos++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

std::string_view ServingStatusName(ServingStatus status) {
  switch (status) {
    case ServingStatus::kUnknown:
      return "UNKNOWN";
    case ServingStatus::kServing:
      return "SERVING";
    case ServingStatus::kNotServing:
      return "NOT_SERVING";
    case ServingStatus::kServiceUnknown:
      return "SERVICE_UNKNOWN";
  }
  return "UNKNOWN";
}

std::string EncodeHealthCheckRequest(const std::string& service) {
  std::string bytes;
  if (service.empty()) return bytes;  // proto3 leaves default values out
  AppendVarint((1 << 3) | kLengthDelimited, bytes);
  AppendVarint(service.size(), bytes);
  bytes += service;
  return bytes;
}

absl::StatusOr<ServingStatus> DecodeHealthCheckResponse(std::string_view bytes) {
  ServingStatus status = ServingStatus::kUnknown;
  size_t pos = 0;
  auto malformed = [] { return absl::InternalError("malformed HealthCheckResponse"); };
  while (pos < bytes.size()) {
    uint64_t key = 0;
    if (!ReadVarint(bytes, pos, key)) return malformed();
    const int field = static_cast<int>(key >> 3);
    const int wire_type = static_cast<int>(key & 7);
    uint64_t value = 0;
    switch (wire_type) {
      case kVarint:
        if (!ReadVarint(bytes, pos, value)) return malformed();
        if (field == 1) {
          // Unknown enum values read as UNKNOWN, as proto3 would keep them
          // unrecognized.
          status = value <= 3 ? static_cast<ServingStatus>(value) : ServingStatus::kUnknown;
        }
        break;
      case kFixed64:
        pos += 8;
        break;
      case kLengthDelimited:
        if (!ReadVarint(bytes, pos, value) || value > bytes.size() - pos) return malformed();
        pos += value;
        break;
      case kFixed32:
        pos += 4;
        break;
      default:
        return malformed();
    }
    if (pos > bytes.size()) return malformed();
  }
  return status;
}

absl::StatusOr<ServingStatus> CheckHealth(const ClientOptions& options,
                                          const std::string& service) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, CreateChannel(options));
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options.call_timeout));
  if (!options.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options.token));
  }
  grpc::Slice request_slice(EncodeHealthCheckRequest(service));
  grpc::ByteBuffer request(&request_slice, 1);
  grpc::ByteBuffer response;
  grpc::Status call_status;
  absl::Notification done;
  stub.UnaryCall(&context, kCheckMethod, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) {
                   call_status = std::move(status);
                   done.Notify();
                 });
  done.WaitForNotification();
  RETURN_IF_ERROR(FromGrpcStatus(call_status));
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::InternalError("unreadable health response");
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return DecodeHealthCheckResponse(bytes);
}

}  // namespace deepsweep::rpc
