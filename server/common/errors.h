// Builds and reads certbridge's error values: an absl::Status whose payloads
// are a google.rpc.ErrorInfo (always exactly one), and optionally a
// google.rpc.RetryInfo and a google.rpc.BadRequest. This is the only code that
// knows the payload type URLs; grpc_status.h turns the result into a
// grpc::Status at the edge.
#ifndef CERTBRIDGE_SERVER_COMMON_ERRORS_H_
#define CERTBRIDGE_SERVER_COMMON_ERRORS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certbridge {

inline constexpr char kErrorDomain[] = "certbridge.v1";

// ErrorInfo.reason values (errors.md). Callers switch on these, so they are
// part of the API: never rename one.
namespace reason {
inline constexpr char kInvalidName[] = "INVALID_NAME";
inline constexpr char kInvalidArgument[] = "INVALID_ARGUMENT";
inline constexpr char kFileTooLarge[] = "FILE_TOO_LARGE";
inline constexpr char kInvalidPkcs12[] = "INVALID_PKCS12";
inline constexpr char kInvalidPem[] = "INVALID_PEM";
inline constexpr char kBackendMalformedResponse[] =
    "BACKEND_MALFORMED_RESPONSE";
inline constexpr char kBackendRejectedRequest[] = "BACKEND_REJECTED_REQUEST";
inline constexpr char kBackendAuthFailed[] = "BACKEND_AUTH_FAILED";
inline constexpr char kBackendPermissionDenied[] = "BACKEND_PERMISSION_DENIED";
inline constexpr char kCertificateNotFound[] = "CERTIFICATE_NOT_FOUND";
inline constexpr char kCertificateAlreadyExists[] =
    "CERTIFICATE_ALREADY_EXISTS";
inline constexpr char kAliasAlreadyInUse[] = "ALIAS_ALREADY_IN_USE";
inline constexpr char kConcurrentModification[] = "CONCURRENT_MODIFICATION";
inline constexpr char kBackendRateLimited[] = "BACKEND_RATE_LIMITED";
inline constexpr char kBackendInternalError[] = "BACKEND_INTERNAL_ERROR";
inline constexpr char kBackendUnavailable[] = "BACKEND_UNAVAILABLE";
inline constexpr char kBackendTimeout[] = "BACKEND_TIMEOUT";
inline constexpr char kBackendError[] = "BACKEND_ERROR";
inline constexpr char kBackendUnreachable[] = "BACKEND_UNREACHABLE";
inline constexpr char kBackendTlsError[] = "BACKEND_TLS_ERROR";
inline constexpr char kBackendConnectionReset[] = "BACKEND_CONNECTION_RESET";
inline constexpr char kBackendCircuitOpen[] = "BACKEND_CIRCUIT_OPEN";
inline constexpr char kBackendOverloaded[] = "BACKEND_OVERLOADED";
// A list answer with more certificates than certbridge takes at once.
inline constexpr char kBackendListTooLarge[] = "BACKEND_LIST_TOO_LARGE";
// This process is at a limit of its own (bytes held by calls in flight,
// queued certificate checks); nothing was sent to a backend.
inline constexpr char kServerOverloaded[] = "SERVER_OVERLOADED";
// A Create with a request_id found its shared idempotency store (Redis)
// unreachable; it was not sent.
inline constexpr char kIdempotencyStoreUnavailable[] =
    "IDEMPOTENCY_STORE_UNAVAILABLE";
inline constexpr char kDeadlineExceeded[] = "DEADLINE_EXCEEDED";
inline constexpr char kCancelled[] = "CANCELLED";
inline constexpr char kInternal[] = "INTERNAL";
inline constexpr char kUnimplemented[] = "UNIMPLEMENTED";
}  // namespace reason

// ErrorInfo.metadata keys.
namespace metadata {
inline constexpr char kBackend[] = "backend";
inline constexpr char kHttpStatus[] = "httpStatus";
inline constexpr char kBackendCode[] = "backendCode";
inline constexpr char kAttempts[] = "attempts";
// The call's request id (the caller's x-request-id, or one certbridge made):
// what to quote when asking an operator about a call.
inline constexpr char kRequestId[] = "requestId";
}  // namespace metadata

struct FieldViolation {
  std::string field;
  std::string description;
};

// Decoded view of a status's ErrorInfo.
struct ErrorInfo {
  std::string reason;
  std::string domain;
  std::map<std::string, std::string> metadata;
};

/// A non-OK status carrying one ErrorInfo with `reason` and `metadata`.
absl::Status MakeError(absl::StatusCode code, absl::string_view message,
                       absl::string_view reason,
                       const std::map<std::string, std::string>& metadata = {});

/// INVALID_ARGUMENT for our own validation, with a BadRequest listing the
/// offending fields.
absl::Status MakeValidationError(absl::string_view reason,
                                 absl::string_view field,
                                 absl::string_view description);

/// The status's ErrorInfo, if it has one.
std::optional<ErrorInfo> GetErrorInfo(const absl::Status& status);

/// The ErrorInfo inside serialized google.rpc.Status details (what
/// grpc::Status::error_details() holds), if there is one.
std::optional<ErrorInfo> GetErrorInfoFromDetails(absl::string_view details);

/// Adds an ErrorInfo with DefaultReason(code) when the status has none.
void EnsureErrorInfo(absl::Status& status);

/// Sets one metadata entry, adding an ErrorInfo (reason derived from the code)
/// when the status has none. No-op on OK.
void SetErrorMetadata(absl::Status& status, absl::string_view key,
                      absl::string_view value);

/// Attaches a RetryInfo telling the caller when to come back.
void SetRetryDelay(absl::Status& status, absl::Duration delay);
std::optional<absl::Duration> GetRetryDelay(const absl::Status& status);

std::vector<FieldViolation> GetFieldViolations(const absl::Status& status);

/// `status` with its message, ErrorInfo metadata values and field
/// violation descriptions passed through Redact() (redact.h) with
/// `secrets`. The last step before a status leaves the process.
absl::Status RedactStatus(const absl::Status& status,
                          const std::vector<std::string>& secrets);

/// The reason used when a status has no ErrorInfo of its own (e.g. a
/// DEADLINE_EXCEEDED raised by a timer).
std::string DefaultReason(absl::StatusCode code);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_ERRORS_H_
