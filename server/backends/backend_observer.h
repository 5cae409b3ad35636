// What happens on the way to one backend instance, reported as it happens by
// the connection's layers. Metrics (the Prometheus exporter) and logging
// (LoggingObserver) are implementations that wrap one another; the policies
// neither log nor know about Prometheus. Every method must be cheap and
// thread-safe.
#ifndef CERTBRIDGE_SERVER_BACKENDS_BACKEND_OBSERVER_H_
#define CERTBRIDGE_SERVER_BACKENDS_BACKEND_OBSERVER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/backend_types.h"

namespace certbridge {

class BackendObserver {
 public:
  virtual ~BackendObserver() = default;
  /// One HTTP exchange. `http_status` is 0 when no response came back;
  /// `error` is none, connect, tls, timeout, reset or other.
  virtual void OnHttpExchange(Operation, int /*http_status*/,
                              absl::string_view /*error*/, absl::Duration) {}
  /// A retry is about to be scheduled.
  struct RetryEvent {
    Operation operation = Operation::kGet;
    /// The ErrorInfo reason of the failure that caused it.
    absl::string_view reason;
    absl::Duration delay;
    /// Attempts made so far.
    int attempts = 0;
    absl::string_view request_id;
    absl::string_view trace_id;
  };
  virtual void OnRetry(const RetryEvent& /*event*/) {}
  /// The retry budget refused a retry.
  virtual void OnRetryThrottled() {}
  /// A call failed fast: circuit_open or overloaded.
  virtual void OnRejected(absl::string_view /*reason*/) {}
  /// 0 closed, 1 half-open, 2 open.
  virtual void OnCircuitState(int /*state*/) {}
  virtual void OnInflight(int /*delta*/) {}
  /// A write the backend accepted did not deploy to every environment.
  virtual void OnDeploymentFailed(Operation) {}
  /// A token fetch from the backend's token endpoint ended; a failure's
  /// message names the backend and HTTP status, never a body or secret.
  virtual void OnTokenRefresh(const absl::Status& /*result*/) {}

  /// Shared instance that ignores everything.
  static BackendObserver& Noop() {
    static BackendObserver noop;
    return noop;
  }
  /// `observer`, or the shared no-op when it is null.
  static std::shared_ptr<BackendObserver> OrNoop(
      std::shared_ptr<BackendObserver> observer) {
    if (observer != nullptr) return observer;
    return std::shared_ptr<BackendObserver>(&Noop(), [](BackendObserver*) {});
  }
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_BACKEND_OBSERVER_H_
