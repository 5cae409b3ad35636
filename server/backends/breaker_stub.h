// Layer over a vendor stub: the circuit breaker, per attempt. An attempt the
// breaker lets through is counted on the call (CallContext::attempts) and
// its outcome recorded; while open, attempts fail at once with
// UNAVAILABLE / BACKEND_CIRCUIT_OPEN and a RetryInfo. Breaker state changes
// are reported to the observer (which logs transitions).
#ifndef CERTBRIDGE_SERVER_BACKENDS_BREAKER_STUB_H_
#define CERTBRIDGE_SERVER_BACKENDS_BREAKER_STUB_H_

#include <memory>

#include "server/backends/backend_observer.h"
#include "server/backends/backend_stub.h"
#include "server/resilience/circuit_breaker.h"

namespace certbridge {

class BreakerStub final : public BackendStub {
 public:
  /// `breaker` may be null (disabled: attempts are only counted). `inner`
  /// and `observer` are never null.
  BreakerStub(std::unique_ptr<BackendStub> inner,
              std::unique_ptr<CircuitBreaker> breaker,
              std::shared_ptr<BackendObserver> observer);

  const CircuitBreaker* breaker() const { return breaker_.get(); }
  /// Publishes the breaker's state; also done by every attempt.
  void ReportState() const;

  void CreateCertificate(std::shared_ptr<CallContext> ctx,
                         const ParentName& parent,
                         const v1::CreateCertificateRequest& request,
                         Done<v1::Certificate> done) override;
  void GetCertificate(std::shared_ptr<CallContext> ctx,
                      const CertificateName& name,
                      const v1::GetCertificateRequest& request,
                      Done<v1::Certificate> done) override;
  void UpdateCertificate(std::shared_ptr<CallContext> ctx,
                         const CertificateName& name,
                         const v1::UpdateCertificateRequest& request,
                         Done<v1::Certificate> done) override;
  void DeleteCertificate(std::shared_ptr<CallContext> ctx,
                         const CertificateName& name,
                         const v1::DeleteCertificateRequest& request,
                         Done<v1::DeleteCertificateResponse> done) override;
  void ListCertificates(std::shared_ptr<CallContext> ctx,
                        const ParentName& parent,
                        const v1::ListCertificatesRequest& request,
                        Done<CertificateList> done) override;
  /// Recovery reads are not attempts: passed straight through.
  void RecoverCreate(std::shared_ptr<CallContext> ctx, const ParentName& parent,
                     const v1::CreateCertificateRequest& request,
                     absl::Status conflict,
                     Done<v1::Certificate> done) override;

 private:
  /// Runs `attempt` if the breaker allows, recording its outcome.
  template <typename T, typename Attempt>
  void Guard(CallContext& ctx, Attempt attempt, Done<T> done);

  const std::unique_ptr<BackendStub> inner_;
  const std::unique_ptr<CircuitBreaker> breaker_;
  const std::shared_ptr<BackendObserver> observer_;
};

/// How a finished attempt counts for the breaker.
CircuitBreaker::Outcome BreakerOutcome(const absl::Status& status);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_BREAKER_STUB_H_
