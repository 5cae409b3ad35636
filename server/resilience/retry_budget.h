// Per-backend retry throttling, as gRPC's retryThrottling (gRFC A6): when
// failures dominate, retries stop so certbridge never multiplies the load
// on a backend that is already failing.
#ifndef CERTBRIDGE_SERVER_RESILIENCE_RETRY_BUDGET_H_
#define CERTBRIDGE_SERVER_RESILIENCE_RETRY_BUDGET_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/config/server_config.h"

namespace certbridge {

class RetryBudget {
 public:
  explicit RetryBudget(RetryBudgetConfig config)
      : config_(config), tokens_(config.max_tokens) {}

  /// A failed attempt of a retryable kind.
  void OnFailure() {
    absl::MutexLock lock(&mu_);
    tokens_ = std::max(0.0, tokens_ - 1);
  }
  void OnSuccess() {
    absl::MutexLock lock(&mu_);
    tokens_ = std::min(config_.max_tokens, tokens_ + config_.token_ratio);
  }
  /// Whether a retry may be sent now.
  bool AllowRetry() const {
    absl::MutexLock lock(&mu_);
    return tokens_ > config_.max_tokens / 2;
  }
  double tokens() const {
    absl::MutexLock lock(&mu_);
    return tokens_;
  }

 private:
  const RetryBudgetConfig config_;
  mutable absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_RESILIENCE_RETRY_BUDGET_H_
