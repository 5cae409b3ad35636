#include "server/backends/backend_connection.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace certbridge {

BackendConnection::BackendConnection(std::string name, BackendKind kind,
                                     std::unique_ptr<BackendStub> stub)
    : name_(std::move(name)), kind_(kind), stub_(std::move(stub)) {}

template <typename T>
Done<T> BackendConnection::Annotate(std::shared_ptr<CallContext> ctx,
                                    Done<T> done) const {
  return [ctx = std::move(ctx), done = std::move(done),
          backend = name_](absl::StatusOr<T> result) mutable {
    if (!result.ok()) {
      absl::Status status = result.status();
      SetErrorMetadata(status, metadata::kBackend, backend);
      SetErrorMetadata(status, metadata::kAttempts,
                       absl::StrCat(ctx->attempts()));
      result = std::move(status);
    }
    done(std::move(result));
  };
}

void BackendConnection::CreateCertificate(
    std::shared_ptr<CallContext> ctx,
    const v1::CreateCertificateRequest& request, Done<v1::Certificate> done) {
  ctx->AddAttempt();
  stub_->CreateCertificate(ctx, request, Annotate(ctx, std::move(done)));
}

void BackendConnection::GetCertificate(std::shared_ptr<CallContext> ctx,
                                       const v1::GetCertificateRequest& request,
                                       Done<v1::Certificate> done) {
  ctx->AddAttempt();
  stub_->GetCertificate(ctx, request, Annotate(ctx, std::move(done)));
}

void BackendConnection::UpdateCertificate(
    std::shared_ptr<CallContext> ctx,
    const v1::UpdateCertificateRequest& request, Done<v1::Certificate> done) {
  ctx->AddAttempt();
  stub_->UpdateCertificate(ctx, request, Annotate(ctx, std::move(done)));
}

void BackendConnection::DeleteCertificate(
    std::shared_ptr<CallContext> ctx,
    const v1::DeleteCertificateRequest& request,
    Done<v1::DeleteCertificateResponse> done) {
  ctx->AddAttempt();
  stub_->DeleteCertificate(ctx, request, Annotate(ctx, std::move(done)));
}

}  // namespace certbridge
