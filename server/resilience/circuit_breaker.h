// Per-backend circuit breaker: stops sending to a backend that keeps
// failing (5xx, timeouts, connection failures; never 4xx), fails fast while
// open with a RetryInfo for the time left, and lets a few probes through
// when the open period ends.
#ifndef CERTBRIDGE_SERVER_RESILIENCE_CIRCUIT_BREAKER_H_
#define CERTBRIDGE_SERVER_RESILIENCE_CIRCUIT_BREAKER_H_

#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/config/server_config.h"
#include "server/resilience/clock.h"

namespace certbridge {

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };
  enum class Outcome {
    kSuccess,  // includes 4xx: the backend is answering
    kFailure,  // 5xx, timeout, connection failure
    kNeutral,  // cancelled or deadline passed before an answer
  };

  /// `clock` must outlive the breaker.
  CircuitBreaker(std::string backend, CircuitBreakerConfig config,
                 const Clock& clock);

  /// Before each attempt: OK to send (in half-open this takes a probe slot,
  /// returned by Record), or UNAVAILABLE / BACKEND_CIRCUIT_OPEN with a
  /// RetryInfo.
  absl::Status Allow();
  /// After each allowed attempt.
  void Record(Outcome outcome);

  /// What a call arriving now would meet: an open period that has ended
  /// reads as half-open before any call comes.
  State state() const;
  static const char* StateName(State s);

 private:
  void OpenLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string backend_;
  const CircuitBreakerConfig config_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kClosed;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<bool> window_ ABSL_GUARDED_BY(mu_);  // true = failure
  int window_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time open_until_ ABSL_GUARDED_BY(mu_);
  int probes_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int probe_successes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_RESILIENCE_CIRCUIT_BREAKER_H_
