// One backend instance: its vendor and the vendor's stub wrapped in the
// layers that are the same for every vendor, outermost first:
//   IdempotentCreateStub  request_id replay for Create (when a store is set)
//   LimitingStub          calls in flight
//   RetryingStub          retries, backoff, retry budget, recovery
//   BreakerStub           the circuit breaker, per attempt
//   vendor stub           one HTTP exchange per call
// Each layer is a BackendStub and is tested alone; logging and metrics are
// observers the layers report to (LoggingObserver wraps the metrics).
#ifndef CERTBRIDGE_SERVER_BACKENDS_BACKEND_CONNECTION_H_
#define CERTBRIDGE_SERVER_BACKENDS_BACKEND_CONNECTION_H_

#include <memory>
#include <string>

#include "certbridge/v1/certificate_service.pb.h"
#include "server/backends/backend_observer.h"
#include "server/backends/backend_stub.h"
#include "server/backends/breaker_stub.h"
#include "server/backends/call_context.h"
#include "server/backends/idempotency_store.h"
#include "server/backends/limiting_stub.h"
#include "server/backends/retrying_stub.h"
#include "server/backends/vendor.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"
#include "server/resilience/call_policies.h"
#include "server/resilience/circuit_breaker.h"
#include "server/resilience/clock.h"

namespace certbridge {

class BackendConnection {
 public:
  /// `vendor`, `transport` (for backoff timers), `idempotency` (may be
  /// null: no replay) and `clock` must outlive the connection. `observer`
  /// receives the layers' events (null: none).
  BackendConnection(const BackendConfig& config, const Vendor& vendor,
                    std::unique_ptr<BackendStub> stub, HttpTransport& transport,
                    IdempotencyStore* idempotency,
                    std::shared_ptr<BackendObserver> observer = nullptr,
                    const Clock& clock = SystemClock::Get(),
                    RandomSource random = SystemRandom());
  /// No layers (one attempt, no breaker, no limit): tests of routing.
  BackendConnection(std::string name, const Vendor& vendor,
                    std::unique_ptr<BackendStub> stub);
  ~BackendConnection();

  const std::string& name() const { return name_; }
  const Vendor& vendor() const { return vendor_; }
  /// Null when the breaker is disabled (or there are no layers).
  const CircuitBreaker* breaker() const;
  const RetryBudget* retry_budget() const;
  const ConcurrencyLimiter* limiter() const;

  /// Publishes the breaker's state. Calls do it as they go; a periodic
  /// caller keeps an idle backend's state current.
  void ReportCircuitState();

  // As BackendStub: names and request stay valid until `done` runs.
  void CreateCertificate(std::shared_ptr<CallContext> ctx,
                         const ParentName& parent,
                         const v1::CreateCertificateRequest& request,
                         Done<v1::Certificate> done) {
    top_->CreateCertificate(std::move(ctx), parent, request, std::move(done));
  }
  void GetCertificate(std::shared_ptr<CallContext> ctx,
                      const CertificateName& name,
                      const v1::GetCertificateRequest& request,
                      Done<v1::Certificate> done) {
    top_->GetCertificate(std::move(ctx), name, request, std::move(done));
  }
  void UpdateCertificate(std::shared_ptr<CallContext> ctx,
                         const CertificateName& name,
                         const v1::UpdateCertificateRequest& request,
                         Done<v1::Certificate> done) {
    top_->UpdateCertificate(std::move(ctx), name, request, std::move(done));
  }
  void DeleteCertificate(std::shared_ptr<CallContext> ctx,
                         const CertificateName& name,
                         const v1::DeleteCertificateRequest& request,
                         Done<v1::DeleteCertificateResponse> done) {
    top_->DeleteCertificate(std::move(ctx), name, request, std::move(done));
  }
  void ListCertificates(std::shared_ptr<CallContext> ctx,
                        const ParentName& parent,
                        const v1::ListCertificatesRequest& request,
                        Done<CertificateList> done) {
    top_->ListCertificates(std::move(ctx), parent, request, std::move(done));
  }

 private:
  const std::string name_;
  const Vendor& vendor_;
  // Views into the stack top_ owns (null when absent).
  BreakerStub* breaker_stub_ = nullptr;
  RetryingStub* retrying_stub_ = nullptr;
  LimitingStub* limiting_stub_ = nullptr;
  std::unique_ptr<BackendStub> top_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_BACKEND_CONNECTION_H_
