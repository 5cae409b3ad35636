// Layer over a stub: at most `limit` calls in flight to one backend (each
// call holds its slot across all its attempts and waits). Past it, calls
// fail at once with RESOURCE_EXHAUSTED / BACKEND_OVERLOADED, so a slow
// backend cannot pile up unbounded work in certbridge.
#ifndef CERTBRIDGE_SERVER_BACKENDS_LIMITING_STUB_H_
#define CERTBRIDGE_SERVER_BACKENDS_LIMITING_STUB_H_

#include <memory>
#include <string>

#include "server/backends/backend_observer.h"
#include "server/backends/backend_stub.h"
#include "server/resilience/concurrency_limiter.h"

namespace certbridge {

class LimitingStub final : public BackendStub {
 public:
  LimitingStub(std::string backend, int limit,
               std::unique_ptr<BackendStub> inner,
               std::shared_ptr<BackendObserver> observer);

  const ConcurrencyLimiter& limiter() const { return limiter_; }

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
  /// The slot-releasing completion, or null (with `done` failed) when the
  /// limit is reached.
  template <typename T>
  Done<T> Admit(Done<T>& done);

  const std::string backend_;
  ConcurrencyLimiter limiter_;
  const std::unique_ptr<BackendStub> inner_;
  const std::shared_ptr<BackendObserver> observer_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_LIMITING_STUB_H_
