// Layer over a stub: AIP-155 request_id for Create. A repeat of a finished
// Create gets the backend's answer again without a second POST; a repeat
// while the first runs waits for it; a different request with the same id
// is INVALID_ARGUMENT. Only the backend's definitive answers are replayed;
// a call whose outcome is unknown (CallContext::outcome_unknown, set by the
// retry layer below) leaves that mark for the next repeat, which then may
// recover by reading back. Other methods pass straight through.
#ifndef CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENT_CREATE_STUB_H_
#define CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENT_CREATE_STUB_H_

#include <cstdint>
#include <memory>
#include <string>

#include "server/backends/backend_stub.h"
#include "server/backends/idempotency_store.h"

namespace certbridge {

class IdempotentCreateStub final : public BackendStub {
 public:
  /// `store` must outlive the stub.
  IdempotentCreateStub(std::unique_ptr<BackendStub> inner,
                       IdempotencyStore& store);

  void CreateCertificate(std::shared_ptr<CallContext> ctx,
                         const ParentName& parent,
                         const v1::CreateCertificateRequest& request,
                         Done<v1::Certificate> done) override;
  void GetCertificate(std::shared_ptr<CallContext> ctx,
                      const CertificateName& name,
                      const v1::GetCertificateRequest& request,
                      Done<v1::Certificate> done) override {
    inner_->GetCertificate(std::move(ctx), name, request, std::move(done));
  }
  void UpdateCertificate(std::shared_ptr<CallContext> ctx,
                         const CertificateName& name,
                         const v1::UpdateCertificateRequest& request,
                         Done<v1::Certificate> done) override {
    inner_->UpdateCertificate(std::move(ctx), name, request, std::move(done));
  }
  void DeleteCertificate(std::shared_ptr<CallContext> ctx,
                         const CertificateName& name,
                         const v1::DeleteCertificateRequest& request,
                         Done<v1::DeleteCertificateResponse> done) override {
    inner_->DeleteCertificate(std::move(ctx), name, request, std::move(done));
  }
  void ListCertificates(std::shared_ptr<CallContext> ctx,
                        const ParentName& parent,
                        const v1::ListCertificatesRequest& request,
                        Done<CertificateList> done) override {
    inner_->ListCertificates(std::move(ctx), parent, request, std::move(done));
  }

 private:
  /// The admitted call: sends it and records how it ended.
  void Run(std::shared_ptr<CallContext> ctx, const ParentName& parent,
           const v1::CreateCertificateRequest& request, std::string key,
           std::uint64_t claim, Done<v1::Certificate> done);

  const std::unique_ptr<BackendStub> inner_;
  IdempotencyStore& store_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_IDEMPOTENT_CREATE_STUB_H_
