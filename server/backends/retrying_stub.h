// Layer over a stub: errors.md "Retry rules". Retries what the retry policy
// allows for the method, after the backoff policy's wait (a timer on the
// HTTP engine, never a sleeping thread), while the retry budget allows and
// the caller's deadline leaves room; remembers on the call whether an
// attempt's outcome is unknown and, when the last error is one that such
// an attempt explains, recovers (Create: "already exists" is read back;
// Delete: "not found" means deleted). This is the only layer that retries.
#ifndef CERTBRIDGE_SERVER_BACKENDS_RETRYING_STUB_H_
#define CERTBRIDGE_SERVER_BACKENDS_RETRYING_STUB_H_

#include <memory>
#include <string>

#include "server/backends/backend_observer.h"
#include "server/backends/backend_stub.h"
#include "server/http/http_transport.h"
#include "server/resilience/call_policies.h"
#include "server/resilience/retry_budget.h"

namespace certbridge {

class RetryingStub final : public BackendStub {
 public:
  /// `retry` and `backoff` are prototypes, cloned for every call.
  /// `transport` (timers) must outlive the stub.
  RetryingStub(std::string backend, std::unique_ptr<BackendStub> inner,
               std::unique_ptr<RetryPolicy> retry,
               std::unique_ptr<BackoffPolicy> backoff, RetryBudgetConfig budget,
               HttpTransport& transport,
               std::shared_ptr<BackendObserver> observer);

  const RetryBudget& budget() const { return budget_; }

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

 private:
  template <typename T>
  friend class RetryLoop;

  const std::string backend_;
  const std::unique_ptr<BackendStub> inner_;
  const std::unique_ptr<RetryPolicy> retry_;
  const std::unique_ptr<BackoffPolicy> backoff_;
  RetryBudget budget_;
  HttpTransport& transport_;
  const std::shared_ptr<BackendObserver> observer_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_RETRYING_STUB_H_
