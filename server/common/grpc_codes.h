// gRPC status code names as go-grpc-middleware's Prometheus metrics spell
// them ("OK", "NotFound", "DeadlineExceeded", ...): the metrics, the access
// log and alerts use one spelling, so a log line can be matched to a
// series without translation.
#ifndef CERTBRIDGE_SERVER_COMMON_GRPC_CODES_H_
#define CERTBRIDGE_SERVER_COMMON_GRPC_CODES_H_

namespace certbridge {

/// `code` is a grpc::StatusCode / absl::StatusCode value (they agree).
const char* GrpcCodeName(int code);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_GRPC_CODES_H_
