// errors.md "Retry rules" as pure functions: which failures a call may
// retry (by method), which leave the outcome unknown, which count against
// the circuit breaker, and how long to wait before the next attempt.
#ifndef CERTBRIDGE_SERVER_RESILIENCE_RETRY_POLICY_H_
#define CERTBRIDGE_SERVER_RESILIENCE_RETRY_POLICY_H_

#include <optional>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/backend_types.h"
#include "server/config/server_config.h"

namespace certbridge {

/// What a failed attempt means for the policies.
struct FailureTraits {
  /// The request provably never reached the backend (connect failure) or
  /// was refused (429): every method may retry.
  bool retry_any_method = false;
  /// Transient, but the backend may have acted: idempotent methods only.
  bool retry_idempotent = false;
  /// The backend may have applied the request although we saw a failure.
  bool outcome_unknown = false;
  /// 5xx, timeout or connection failure: counts against the breaker.
  bool breaker_failure = false;
};

/// Reads the status's FailureFacts (failure.h); failures certbridge raised
/// itself have none and are neither retried nor counted.
FailureTraits ClassifyFailure(const absl::Status& status);

/// Whether `status` is a definitive answer from the vendor API: a success,
/// or a 2xx/4xx about the request itself (not 401, 403, 408 or 429, which
/// can change without the request changing). Only these are worth
/// remembering for a request_id.
bool IsBackendAnswer(const absl::Status& status);

/// Get, Update (full replacement PUT) and Delete.
bool IsIdempotent(Operation op);

/// Whether `status` may be retried for `op` at all (budget and attempts
/// aside).
bool IsRetryable(const absl::Status& status, Operation op);

/// Full-jitter exponential backoff before retry `retry` (1-based), raised to
/// `retry_after` (capped at config.retry_after_cap) when the backend gave one.
absl::Duration BackoffDelay(const RetryConfig& config, int retry,
                            std::optional<absl::Duration> retry_after,
                            absl::BitGenRef rng);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_RESILIENCE_RETRY_POLICY_H_
