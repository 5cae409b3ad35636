// The per-call policies of the retry loop as small cloneable objects, in the
// manner of google-cloud-cpp's RetryPolicy/BackoffPolicy: a connection holds
// one prototype of each and clones it for every call, so a call's state
// (attempts, backoff step) is its own. Randomness is injected, so tests can
// fix it.
#ifndef CERTBRIDGE_SERVER_RESILIENCE_CALL_POLICIES_H_
#define CERTBRIDGE_SERVER_RESILIENCE_CALL_POLICIES_H_

#include <functional>
#include <memory>
#include <optional>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/backend_types.h"
#include "server/config/server_config.h"

namespace certbridge {

/// Whether a call may try again after a failed attempt.
class RetryPolicy {
 public:
  virtual ~RetryPolicy() = default;
  virtual std::unique_ptr<RetryPolicy> clone() const = 0;
  /// Records a failed attempt of `op`; true if another attempt may follow
  /// (budget and deadline aside).
  virtual bool OnFailure(const absl::Status& status, Operation op) = 0;
  virtual int attempts() const = 0;
};

/// errors.md "Retry rules": retryable failures, at most `max_attempts`
/// attempts per call (the first included).
class LimitedAttemptsRetryPolicy final : public RetryPolicy {
 public:
  explicit LimitedAttemptsRetryPolicy(int max_attempts)
      : max_attempts_(max_attempts) {}
  std::unique_ptr<RetryPolicy> clone() const override {
    return std::make_unique<LimitedAttemptsRetryPolicy>(max_attempts_);
  }
  bool OnFailure(const absl::Status& status, Operation op) override;
  int attempts() const override { return failures_; }

 private:
  const int max_attempts_;
  int failures_ = 0;
};

/// How long to wait before the next attempt.
class BackoffPolicy {
 public:
  virtual ~BackoffPolicy() = default;
  virtual std::unique_ptr<BackoffPolicy> clone() const = 0;
  /// The wait before the next attempt, given the backend's Retry-After.
  virtual absl::Duration OnCompletion(
      std::optional<absl::Duration> retry_after) = 0;
};

/// Randomness as a dependency: returns the generator to draw from on the
/// calling thread.
using RandomSource = std::function<absl::BitGenRef()>;
/// A thread-local absl::BitGen.
RandomSource SystemRandom();

/// Full-jitter exponential backoff (BackoffDelay in retry_policy.h).
class ExponentialBackoffPolicy final : public BackoffPolicy {
 public:
  ExponentialBackoffPolicy(RetryConfig config, RandomSource random)
      : config_(config), random_(std::move(random)) {}
  std::unique_ptr<BackoffPolicy> clone() const override {
    return std::make_unique<ExponentialBackoffPolicy>(config_, random_);
  }
  absl::Duration OnCompletion(
      std::optional<absl::Duration> retry_after) override;

 private:
  const RetryConfig config_;
  const RandomSource random_;
  int retries_ = 0;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_RESILIENCE_CALL_POLICIES_H_
