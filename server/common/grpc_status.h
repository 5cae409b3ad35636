// The single conversion from certbridge's absl::Status values to the
// grpc::Status a caller receives, with google.rpc.Status packed into the
// binary error details (grpc-status-details-bin).
#ifndef CERTBRIDGE_SERVER_COMMON_GRPC_STATUS_H_
#define CERTBRIDGE_SERVER_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace certbridge {

/// OK stays OK. Any other status becomes a grpc::Status with the same code
/// and message and a google.rpc.Status detail holding exactly one ErrorInfo
/// (added with a reason derived from the code when missing), plus RetryInfo
/// and BadRequest when present.
grpc::Status ToGrpcStatus(const absl::Status& status);

/// The trailing metadata key through which gRPC's own client retries (A6)
/// learn when to try again.
inline constexpr char kRetryPushbackKey[] = "grpc-retry-pushback-ms";
/// RetryInfo's own bound (SetRetryDelay), so both always say the same.
inline constexpr absl::Duration kMaxRetryPushback = absl::Hours(24);

/// The value of grpc-retry-pushback-ms for a status carrying a RetryInfo:
/// its delay in whole milliseconds, rounded up, within
/// [0, kMaxRetryPushback]. nullopt without a RetryInfo (no header then:
/// the client's own backoff applies).
std::optional<std::string> RetryPushbackMs(const absl::Status& status);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_GRPC_STATUS_H_
