#include "server/backends/backend_stub.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/mapping/http_status_mapping.h"

namespace certbridge {
namespace {
absl::Status Unimplemented(const char* method) {
  return MakeError(
      absl::StatusCode::kUnimplemented,
      std::string(method) + " is not implemented for this backend kind",
      reason::kUnimplemented);
}
}  // namespace

absl::StatusOr<CertificateList> ListedCertificates(
    absl::StatusOr<std::vector<v1::Certificate>> parsed,
    const std::string& backend, int http_status) {
  if (parsed.ok()) return CertificateList{*std::move(parsed)};
  if (parsed.status().code() == absl::StatusCode::kOutOfRange) {
    return MakeError(
        absl::StatusCode::kInternal,
        absl::StrCat("backend ", backend, " listed more than ",
                     kMaxListedCertificates,
                     " certificates, more than certbridge lists at once"),
        reason::kBackendListTooLarge, {{metadata::kBackend, backend}});
  }
  return MalformedResponseError(backend, http_status,
                                parsed.status().message());
}

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
void BackendStub::ListCertificates(std::shared_ptr<CallContext>,
                                   const ParentName&,
                                   const v1::ListCertificatesRequest&,
                                   Done<CertificateList> done) {
  done(Unimplemented("ListCertificates"));
}
void BackendStub::RecoverCreate(std::shared_ptr<CallContext>, const ParentName&,
                                const v1::CreateCertificateRequest&,
                                absl::Status conflict,
                                Done<v1::Certificate> done) {
  done(std::move(conflict));
}

}  // namespace certbridge
