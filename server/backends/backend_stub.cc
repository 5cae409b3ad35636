#include "server/backends/backend_stub.h"

#include <utility>

#include "server/common/errors.h"

namespace certbridge {
namespace {
absl::Status Unimplemented(const char* method) {
  return MakeError(
      absl::StatusCode::kUnimplemented,
      std::string(method) + " is not implemented for this backend kind",
      reason::kUnimplemented);
}
}  // namespace

void BackendStub::CreateCertificate(std::shared_ptr<CallContext>,
                                    const ParentName&,
                                    const v1::CreateCertificateRequest&,
                                    Done<v1::Certificate> done) {
  done(Unimplemented("CreateCertificate"));
}
void BackendStub::GetCertificate(std::shared_ptr<CallContext>,
                                 const CertificateName&,
                                 const v1::GetCertificateRequest&,
                                 Done<v1::Certificate> done) {
  done(Unimplemented("GetCertificate"));
}
void BackendStub::UpdateCertificate(std::shared_ptr<CallContext>,
                                    const CertificateName&,
                                    const v1::UpdateCertificateRequest&,
                                    Done<v1::Certificate> done) {
  done(Unimplemented("UpdateCertificate"));
}
void BackendStub::DeleteCertificate(std::shared_ptr<CallContext>,
                                    const CertificateName&,
                                    const v1::DeleteCertificateRequest&,
                                    Done<v1::DeleteCertificateResponse> done) {
  done(Unimplemented("DeleteCertificate"));
}
void BackendStub::RecoverCreate(std::shared_ptr<CallContext>, const ParentName&,
                                const v1::CreateCertificateRequest&,
                                absl::Status conflict,
                                Done<v1::Certificate> done) {
  done(std::move(conflict));
}

}  // namespace certbridge
