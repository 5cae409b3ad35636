#include "server/resilience/retry_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/random/distributions.h"
#include "server/common/errors.h"

namespace certbridge {

FailureTraits ClassifyFailure(const absl::Status& status) {
  FailureTraits t;
  auto info = GetErrorInfo(status);
  if (!info) return t;
  const std::string& r = info->reason;
  if (r == reason::kBackendUnreachable) {
    t.retry_any_method = true;
    t.breaker_failure = true;
  } else if (r == reason::kBackendRateLimited) {
    t.retry_any_method = true;
  } else if (r == reason::kBackendInternalError ||
             r == reason::kBackendUnavailable || r == reason::kBackendTimeout ||
             r == reason::kBackendConnectionReset) {
    t.retry_idempotent = true;
    t.outcome_unknown = true;
    t.breaker_failure = true;
  }
  return t;
}

bool IsIdempotent(Operation op) { return op != Operation::kCreate; }

bool IsRetryable(const absl::Status& status, Operation op) {
  const FailureTraits t = ClassifyFailure(status);
  return t.retry_any_method || (t.retry_idempotent && IsIdempotent(op));
}

absl::Duration BackoffDelay(const RetryConfig& config, int retry,
                            std::optional<absl::Duration> retry_after,
                            absl::BitGenRef rng) {
  const double exp = std::pow(config.multiplier, std::max(0, retry - 1));
  const absl::Duration ceiling =
      std::min(config.max_backoff, config.initial_backoff * exp);
  absl::Duration delay = absl::Nanoseconds(absl::Uniform<int64_t>(
      absl::IntervalClosed, rng, 0, absl::ToInt64Nanoseconds(ceiling)));
  if (retry_after) {
    delay = std::max(delay, std::min(*retry_after, config.retry_after_cap));
  }
  return delay;
}

}  // namespace certbridge
