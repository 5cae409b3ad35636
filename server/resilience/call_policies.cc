#include "server/resilience/call_policies.h"

#include "absl/random/random.h"
#include "server/resilience/retry_policy.h"

namespace certbridge {

bool LimitedAttemptsRetryPolicy::OnFailure(const absl::Status& status,
                                           Operation op) {
  ++failures_;
  return IsRetryable(status, op) && failures_ < max_attempts_;
}

RandomSource SystemRandom() {
  return []() -> absl::BitGenRef {
    thread_local absl::BitGen gen;
    return gen;
  };
}

absl::Duration ExponentialBackoffPolicy::OnCompletion(
    std::optional<absl::Duration> retry_after) {
  return BackoffDelay(config_, ++retries_, retry_after, random_());
}

}  // namespace certbridge
