// What happens on the way to one backend instance, reported as it happens.
// The metrics exporter implements it; the backends layer does not know
// about Prometheus. Every method must be cheap and thread-safe.
#ifndef CERTBRIDGE_SERVER_BACKENDS_BACKEND_OBSERVER_H_
#define CERTBRIDGE_SERVER_BACKENDS_BACKEND_OBSERVER_H_

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
  /// A retry is about to be scheduled; `reason` is the ErrorInfo reason of
  /// the failure that caused it.
  virtual void OnRetry(Operation, absl::string_view /*reason*/) {}
  /// The retry budget refused a retry.
  virtual void OnRetryThrottled() {}
  /// A call failed fast: circuit_open or overloaded.
  virtual void OnRejected(absl::string_view /*reason*/) {}
  /// 0 closed, 1 half-open, 2 open.
  virtual void OnCircuitState(int /*state*/) {}
  virtual void OnInflight(int /*delta*/) {}
  /// A write the backend accepted did not deploy to every environment.
  virtual void OnDeploymentFailed(Operation) {}
  /// A token was fetched from the backend's token endpoint.
  virtual void OnTokenRefresh(bool /*ok*/) {}

  /// Shared instance that ignores everything.
  static BackendObserver& Noop() {
    static BackendObserver noop;
    return noop;
  }
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_BACKEND_OBSERVER_H_
