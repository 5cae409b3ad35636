#include "server/mapping/transport_error_mapping.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace certbridge {

absl::Status MapTransportError(const TransportError& error,
                               absl::string_view backend,
                               bool deadline_passed) {
  const bool is_timeout = error.kind == TransportErrorKind::kTimeout ||
                          error.kind == TransportErrorKind::kConnectTimeout ||
                          error.kind == TransportErrorKind::kCancelled;
  if (deadline_passed && is_timeout) {
    return MakeError(
        absl::StatusCode::kDeadlineExceeded,
        absl::StrCat("deadline exceeded waiting for backend ", backend),
        reason::kDeadlineExceeded,
        {{metadata::kBackend, std::string(backend)}});
  }
  absl::StatusCode code = absl::StatusCode::kUnavailable;
  const char* why = reason::kBackendUnreachable;
  switch (error.kind) {
    case TransportErrorKind::kDnsFailure:
    case TransportErrorKind::kConnectFailed:
    case TransportErrorKind::kConnectTimeout:
      why = reason::kBackendUnreachable;
      break;
    case TransportErrorKind::kTlsHandshake:
    case TransportErrorKind::kTlsVerification:
      // A certificate or protocol mismatch is configuration, not weather:
      // retrying cannot help, so INTERNAL.
      code = absl::StatusCode::kInternal;
      why = reason::kBackendTlsError;
      break;
    case TransportErrorKind::kTimeout:
      why = reason::kBackendTimeout;
      break;
    case TransportErrorKind::kConnectionReset:
      why = reason::kBackendConnectionReset;
      break;
    case TransportErrorKind::kCancelled:
      code = absl::StatusCode::kCancelled;
      why = reason::kCancelled;
      break;
    case TransportErrorKind::kResponseTooLarge:
      code = absl::StatusCode::kInternal;
      why = reason::kBackendMalformedResponse;
      break;
    case TransportErrorKind::kOther:
      code = absl::StatusCode::kInternal;
      why = reason::kBackendError;
      break;
  }
  return MakeError(
      code,
      absl::StrCat("backend ", backend, ": ",
                   TransportErrorKindName(error.kind), ": ", error.message),
      why, {{metadata::kBackend, std::string(backend)}});
}

}  // namespace certbridge
