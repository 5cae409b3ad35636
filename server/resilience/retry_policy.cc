#include "server/resilience/retry_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/random/distributions.h"
#include "server/common/errors.h"
#include "server/common/failure.h"

namespace certbridge {

FailureTraits ClassifyFailure(const absl::Status& status) {
  FailureTraits t;
  const std::optional<FailureFacts> facts = GetFailureFacts(status);
  // Failures certbridge raised itself (validation, an open circuit,
  // overload, cancellation, deadline) are not the backend's.
  if (!facts) return t;
  using Transport = FailureFacts::Transport;
  const bool api = facts->source == FailureFacts::Source::kApi;
  switch (facts->transport) {
    case Transport::kNone: {
      const int http = facts->http_status;
      if (http == 429) {
        // Refused, not applied: any method may come back.
        t.retry_any_method = true;
      } else if (http >= 500 && http < 600) {
        // errors.md: every 5xx counts for the breaker; only these four are
        // transient enough to retry.
        t.breaker_failure = true;
        const bool transient =
            http == 500 || http == 502 || http == 503 || http == 504;
        if (api) {
          t.retry_idempotent = transient;
          t.outcome_unknown = true;
        } else {
          // The token endpoint failed: the API call never left.
          t.retry_any_method = transient;
        }
      }
      break;
    }
    case Transport::kNotSent:
      t.retry_any_method = true;
      t.breaker_failure = true;
      break;
    case Transport::kTlsVerification:
      t.breaker_failure = true;
      break;
    case Transport::kTimeout:
    case Transport::kReset:
      t.breaker_failure = true;
      if (api) {
        t.retry_idempotent = true;
        t.outcome_unknown = true;
      } else {
        t.retry_any_method = true;
      }
      break;
    case Transport::kOther:
      t.breaker_failure = true;
      t.outcome_unknown = api;
      break;
  }
  return t;
}

bool IsBackendAnswer(const absl::Status& status) {
  if (status.ok()) return true;
  const std::optional<FailureFacts> facts = GetFailureFacts(status);
  if (!facts || facts->source != FailureFacts::Source::kApi ||
      facts->transport != FailureFacts::Transport::kNone) {
    return false;
  }
  const int http = facts->http_status;
  // Refusals that say nothing about the request itself: our credentials,
  // permissions or the rate limit can change, and nothing was applied.
  if (http == 401 || http == 403 || http == 408 || http == 429) return false;
  return http >= 200 && http < 500;
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
