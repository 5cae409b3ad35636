// The connection's log lines, as a BackendObserver that forwards every event
// to the next observer (metrics): retries (debug), circuit breaker
// transitions and token endpoint failures/recoveries, each transition logged
// once so an outage reads as a short story rather than a line per call.
#ifndef CERTBRIDGE_SERVER_BACKENDS_LOGGING_OBSERVER_H_
#define CERTBRIDGE_SERVER_BACKENDS_LOGGING_OBSERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "server/backends/backend_observer.h"

namespace certbridge {

class LoggingObserver final : public BackendObserver {
 public:
  /// `next` may be null (log only).
  LoggingObserver(std::string backend, std::shared_ptr<BackendObserver> next);

  void OnHttpExchange(Operation op, int http_status, absl::string_view error,
                      absl::Duration latency) override {
    next_->OnHttpExchange(op, http_status, error, latency);
  }
  void OnRetry(const RetryEvent& event) override;
  void OnRetryThrottled() override { next_->OnRetryThrottled(); }
  void OnRejected(absl::string_view reason) override {
    next_->OnRejected(reason);
  }
  void OnCircuitState(int state) override;
  void OnInflight(int delta) override { next_->OnInflight(delta); }
  void OnDeploymentFailed(Operation op) override {
    next_->OnDeploymentFailed(op);
  }
  void OnTokenRefresh(const absl::Status& result) override;

 private:
  const std::string backend_;
  const std::shared_ptr<BackendObserver> next_;
  std::atomic<int> circuit_state_{-1};
  std::atomic<bool> token_failing_{false};
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_LOGGING_OBSERVER_H_
