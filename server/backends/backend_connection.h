// One backend instance's vendor stub wrapped in the call policies that are
// the same for every vendor (errors.md "Retry rules"): the concurrency
// limit, the circuit breaker, retries with backoff under a retry budget,
// request_id replay for Create, and recovery of calls whose earlier attempt
// may have succeeded. This is the only layer that retries; waits are timers
// on the HTTP engine, never sleeping threads.
#ifndef CERTBRIDGE_SERVER_BACKENDS_BACKEND_CONNECTION_H_
#define CERTBRIDGE_SERVER_BACKENDS_BACKEND_CONNECTION_H_

#include <atomic>
#include <memory>
#include <string>

#include "certbridge/v1/certificate_service.pb.h"
#include "server/backends/backend_observer.h"
#include "server/backends/backend_stub.h"
#include "server/backends/call_context.h"
#include "server/backends/idempotency_store.h"
#include "server/common/backend_types.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"
#include "server/resilience/circuit_breaker.h"
#include "server/resilience/clock.h"
#include "server/resilience/concurrency_limiter.h"
#include "server/resilience/retry_budget.h"

namespace certbridge {

class BackendConnection {
 public:
  /// `transport` (for backoff timers), `idempotency` (may be null: no
  /// replay) and `clock` must outlive the connection.
  BackendConnection(const BackendConfig& config,
                    std::unique_ptr<BackendStub> stub, HttpTransport& transport,
                    IdempotencyStore* idempotency,
                    std::shared_ptr<BackendObserver> observer = nullptr,
                    const Clock& clock = SystemClock::Get());
  /// Policies off (one attempt, no breaker, no limit): tests of routing.
  BackendConnection(std::string name, BackendKind kind,
                    std::unique_ptr<BackendStub> stub);
  ~BackendConnection();

  const std::string& name() const { return name_; }
  BackendKind kind() const { return kind_; }
  const CircuitBreaker* breaker() const { return breaker_.get(); }
  const RetryBudget& retry_budget() const { return budget_; }
  const ConcurrencyLimiter& limiter() const { return limiter_; }

  /// Takes a concurrency slot (false: the call is rejected); every
  /// admitted call Leave()s once when it completes.
  bool Admit();
  void Leave();

  /// Publishes the breaker's state (and logs a change once). Calls do it as
  /// they go; a periodic caller keeps an idle backend's state current.
  void ReportCircuitState();

  // As BackendStub: names and request stay valid until `done` runs.
  void CreateCertificate(std::shared_ptr<CallContext> ctx,
                         const ParentName& parent,
                         const v1::CreateCertificateRequest& request,
                         Done<v1::Certificate> done);
  void GetCertificate(std::shared_ptr<CallContext> ctx,
                      const CertificateName& name,
                      const v1::GetCertificateRequest& request,
                      Done<v1::Certificate> done);
  void UpdateCertificate(std::shared_ptr<CallContext> ctx,
                         const CertificateName& name,
                         const v1::UpdateCertificateRequest& request,
                         Done<v1::Certificate> done);
  void DeleteCertificate(std::shared_ptr<CallContext> ctx,
                         const CertificateName& name,
                         const v1::DeleteCertificateRequest& request,
                         Done<v1::DeleteCertificateResponse> done);

 private:
  template <typename T>
  friend class RetryingCall;

  template <typename T>
  void Run(std::shared_ptr<CallContext> ctx, Operation op,
           std::function<void(Done<T>)> attempt, Done<T> done);

  const std::string name_;
  const BackendKind kind_;
  const RetryConfig retry_;
  const std::unique_ptr<BackendStub> stub_;
  HttpTransport* const transport_;
  IdempotencyStore* const idempotency_;
  std::unique_ptr<CircuitBreaker> breaker_;
  RetryBudget budget_;
  ConcurrencyLimiter limiter_;
  const std::shared_ptr<BackendObserver> observer_;
  std::atomic<int> reported_state_{-1};
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_BACKEND_CONNECTION_H_
