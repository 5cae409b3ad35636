#include "server/mapping/transport_error_mapping.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/failure.h"
#include "server/common/quote.h"

namespace certbridge {
namespace {

FailureFacts::Transport FactsKind(const TransportError& error) {
  if (error.kind == TransportErrorKind::kTlsVerification) {
    return FailureFacts::Transport::kTlsVerification;
  }
  if (!error.request_may_have_been_sent) {
    return FailureFacts::Transport::kNotSent;
  }
  switch (error.kind) {
    case TransportErrorKind::kTimeout:
    case TransportErrorKind::kConnectTimeout:
      return FailureFacts::Transport::kTimeout;
    case TransportErrorKind::kConnectionReset:
      return FailureFacts::Transport::kReset;
    default:
      return FailureFacts::Transport::kOther;
  }
}

}  // namespace

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
    case TransportErrorKind::kTlsHandshake:
      // errors.md: a handshake broken off (reset, protocol error) happens
      // before any request byte, like a refused connection.
      why = reason::kBackendUnreachable;
      break;
    case TransportErrorKind::kTlsVerification:
      // A certificate the trust store rejects is configuration, not
      // weather: retrying cannot help, so INTERNAL.
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
  // Whatever the kind, a failure before any request byte left is the
  // backend being unreachable: safe to retry for every method.
  if (!error.request_may_have_been_sent &&
      error.kind != TransportErrorKind::kTlsVerification &&
      error.kind != TransportErrorKind::kCancelled) {
    code = absl::StatusCode::kUnavailable;
    why = reason::kBackendUnreachable;
  }
  absl::Status status =
      MakeError(code,
                absl::StrCat("backend ", backend, ": ",
                             TransportErrorKindName(error.kind), ": ",
                             BoundText(error.message, 200)),
                why, {{metadata::kBackend, std::string(backend)}});
  if (error.kind != TransportErrorKind::kCancelled) {
    FailureFacts facts;
    facts.transport = FactsKind(error);
    SetFailureFacts(status, facts);
  }
  return status;
}

}  // namespace certbridge
