// How a Create's outcome is kept in a shared store: the certificate, or the
// whole error (code, message and every payload, so a replay from another
// replica carries the same ErrorInfo, RetryInfo and BadRequest as the
// first answer).
#ifndef CERTBRIDGE_SERVER_IDEMPOTENCY_OUTCOME_CODEC_H_
#define CERTBRIDGE_SERVER_IDEMPOTENCY_OUTCOME_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certbridge/v1/certificate_service.pb.h"

namespace certbridge {

std::string EncodeOutcome(const absl::StatusOr<v1::Certificate>& outcome);

/// The stored outcome, or an INTERNAL error when the bytes are not one
/// (another program's key, a truncated value): never a crash.
absl::StatusOr<absl::StatusOr<v1::Certificate>> DecodeOutcome(
    absl::string_view bytes);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_IDEMPOTENCY_OUTCOME_CODEC_H_
