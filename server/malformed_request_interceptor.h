// Turns gRPC's answer to an unparsable request into INVALID_ARGUMENT.
//
// When a request's bytes do not parse as the method's message, gRPC fails the
// call itself, before any handler runs, with INTERNAL and no message. That
// code tells the caller "the server broke"; the truth is "your request is
// malformed". This interceptor notices the failed parse (the received message
// is absent after POST_RECV_MESSAGE) and rewrites that call's final status.
//
// Thread-safety: one interceptor per call, created by the factory, which is
// stateless and safe to share.
#ifndef DEEPSWEEP_SERVER_MALFORMED_REQUEST_INTERCEPTOR_H_
#define DEEPSWEEP_SERVER_MALFORMED_REQUEST_INTERCEPTOR_H_

#include "grpcpp/support/server_interceptor.h"

namespace deepsweep::server {

class MalformedRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace deepsweep::server

#endif  // DEEPSWEEP_SERVER_MALFORMED_REQUEST_INTERCEPTOR_H_
