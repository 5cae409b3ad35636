// The status of a certbridge call as the client library returns it: an
// absl::Status with gRPC's code and message, and the server's rich error
// details (google.rpc.ErrorInfo, RetryInfo, BadRequest) as payloads.
//
// Payloads are stored exactly as certbridge's server stores them (the
// serialized message under its type URL, server/common/errors.h), so one set
// of accessors reads both: GetErrorInfo(), GetRetryDelay() and
// GetFieldViolations() from errors.h, or GetErrorDetails() below for all of
// them at once. Nothing here logs: messages and metadata may quote caller
// input and stay with the caller.
#ifndef CERTBRIDGE_CLIENT_LIBRARY_RPC_STATUS_H_
#define CERTBRIDGE_CLIENT_LIBRARY_RPC_STATUS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "server/common/errors.h"

namespace certbridge {

/// OK stays OK. Otherwise the same code and message, plus one payload per
/// detail of the google.rpc.Status in `status.error_details()` (the
/// grpc-status-details-bin trailer), keyed by
/// "type.googleapis.com/<full message name>" whatever prefix the sender's
/// Any used. Unparsable details are dropped; the code and message remain.
/// certbridge sends at most one detail of each type; of repeated ones the
/// last is kept.
absl::Status FromGrpcStatus(const grpc::Status& status);

/// Everything certbridge puts in a failed call's details, decoded.
struct ErrorDetails {
  /// ErrorInfo: what went wrong, as an UPPER_SNAKE_CASE constant
  /// (reason::k... in errors.h, docs/errors.md); empty when absent.
  std::string reason;
  std::string domain;  // "certbridge.v1"
  /// backend, httpStatus, backendCode, attempts, requestId.
  std::map<std::string, std::string> metadata;
  /// RetryInfo: when the server says to come back (rate limits, overload,
  /// an open circuit).
  std::optional<absl::Duration> retry_delay;
  /// BadRequest: the request fields certbridge's own validation refused.
  std::vector<FieldViolation> field_violations;
};

/// The details of `status` (all empty for OK or a status without any, such
/// as a connection failure gRPC raised on the client side).
ErrorDetails GetErrorDetails(const absl::Status& status);

}  // namespace certbridge

#endif  // CERTBRIDGE_CLIENT_LIBRARY_RPC_STATUS_H_
