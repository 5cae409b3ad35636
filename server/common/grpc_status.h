// The single conversion from certbridge's absl::Status values to the
// grpc::Status a caller receives, with google.rpc.Status packed into the
// binary error details (grpc-status-details-bin).
#ifndef CERTBRIDGE_SERVER_COMMON_GRPC_STATUS_H_
#define CERTBRIDGE_SERVER_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace certbridge {

/// OK stays OK. Any other status becomes a grpc::Status with the same code
/// and message and a google.rpc.Status detail holding exactly one ErrorInfo
/// (added with a reason derived from the code when missing), plus RetryInfo
/// and BadRequest when present.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_GRPC_STATUS_H_
