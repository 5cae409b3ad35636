#include "server/backends/limiting_stub.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace certbridge {

LimitingStub::LimitingStub(std::string backend, int limit,
                           std::unique_ptr<BackendStub> inner,
                           std::shared_ptr<BackendObserver> observer)
    : backend_(std::move(backend)),
      limiter_(limit),
      inner_(std::move(inner)),
      observer_(std::move(observer)) {}

template <typename T>
Done<T> LimitingStub::Admit(Done<T>& done) {
  if (!limiter_.TryAcquire()) {
    observer_->OnRejected("overloaded");
    done(MakeError(absl::StatusCode::kResourceExhausted,
                   absl::StrCat("backend ", backend_, ": ", limiter_.limit(),
                                " calls already in flight; try again later"),
                   reason::kBackendOverloaded,
                   {{metadata::kBackend, backend_}}));
    return nullptr;
  }
  observer_->OnInflight(+1);
  return [this, done = std::move(done)](absl::StatusOr<T> r) mutable {
    limiter_.Release();
    observer_->OnInflight(-1);
    done(std::move(r));
  };
}

void LimitingStub::CreateCertificate(
    std::shared_ptr<CallContext> ctx, const ParentName& parent,
    const v1::CreateCertificateRequest& request, Done<v1::Certificate> done) {
  if (auto admitted = Admit(done)) {
    inner_->CreateCertificate(std::move(ctx), parent, request,
                              std::move(admitted));
  }
}

void LimitingStub::GetCertificate(std::shared_ptr<CallContext> ctx,
                                  const CertificateName& name,
                                  const v1::GetCertificateRequest& request,
                                  Done<v1::Certificate> done) {
  if (auto admitted = Admit(done)) {
    inner_->GetCertificate(std::move(ctx), name, request, std::move(admitted));
  }
}

void LimitingStub::UpdateCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::UpdateCertificateRequest& request, Done<v1::Certificate> done) {
  if (auto admitted = Admit(done)) {
    inner_->UpdateCertificate(std::move(ctx), name, request,
                              std::move(admitted));
  }
}

void LimitingStub::DeleteCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::DeleteCertificateRequest& request,
    Done<v1::DeleteCertificateResponse> done) {
  if (auto admitted = Admit(done)) {
    inner_->DeleteCertificate(std::move(ctx), name, request,
                              std::move(admitted));
  }
}

void LimitingStub::ListCertificates(std::shared_ptr<CallContext> ctx,
                                    const ParentName& parent,
                                    const v1::ListCertificatesRequest& request,
                                    Done<CertificateList> done) {
  if (auto admitted = Admit(done)) {
    inner_->ListCertificates(std::move(ctx), parent, request,
                             std::move(admitted));
  }
}

}  // namespace certbridge
