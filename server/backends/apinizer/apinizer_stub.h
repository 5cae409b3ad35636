// BackendStub for Apinizer API Ops: certificates under
// {base}/projects/{project}/certificates/{name}/ (trailing slash required,
// segments URL-encoded), Bearer auth, multipart create/update. Update is a
// read-modify-write because Apinizer requires every field on PUT; Create
// and Update read the certificate back so callers get the deployed state.
#ifndef CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_STUB_H_
#define CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_STUB_H_

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "server/backends/apinizer/apinizer_json.h"
#include "server/backends/backend_stub.h"
#include "server/backends/rest_exchange.h"
#include "server/backends/token_source.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"

namespace certbridge {

class ApinizerStub final : public BackendStub {
 public:
  /// `transport` must outlive the stub; `observer` may be null.
  ApinizerStub(BackendConfig config, HttpTransport& transport,
               std::shared_ptr<TokenSource> tokens,
               std::shared_ptr<BackendObserver> observer = nullptr);

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
  /// A1: GET {base}/projects/{p}/certificates/ returns the whole project
  /// (no paging, §1). For the `admin` project the Manager returns every
  /// project's certificates (§1), without their project: they are named
  /// under `admin` as they came.
  void ListCertificates(std::shared_ptr<CallContext> ctx,
                        const ParentName& parent,
                        const v1::ListCertificatesRequest& request,
                        Done<CertificateList> done) override;
  /// Reads the certificate and accepts it when name, alias, description,
  /// environments and certificate content match the request.
  void RecoverCreate(std::shared_ptr<CallContext> ctx, const ParentName& parent,
                     const v1::CreateCertificateRequest& request,
                     absl::Status conflict,
                     Done<v1::Certificate> done) override;

 private:
  struct Target {
    std::string project;
    std::string certificate;
  };

  /// A 2xx answer with its body parsed once for every reader.
  struct ParsedResponse {
    int status_code = 0;
    ApinizerBody body;
  };
  using ParsedHandler =
      absl::AnyInvocable<void(absl::StatusOr<ParsedResponse>)>;

  /// Sends and also treats a 200 whose body says FAILURE as an error.
  void Send(std::shared_ptr<CallContext> ctx, Operation op, HttpRequest request,
            ParsedHandler done);
  /// GET one certificate (Operation `op` decides the error mapping).
  void Fetch(std::shared_ptr<CallContext> ctx, Operation op,
             const Target& target, Done<v1::Certificate> done);
  /// Sends Create/Update's multipart request, then reads the certificate
  /// back; `fallback` is returned (with the deployment result) if the read
  /// fails after the write succeeded.
  void WriteAndReadBack(std::shared_ptr<CallContext> ctx, Operation op,
                        const Target& target, HttpRequest request,
                        v1::Certificate fallback, Done<v1::Certificate> done);
  /// The certificate in a Get body, which must be `target`; anything else
  /// is BACKEND_MALFORMED_RESPONSE.
  absl::StatusOr<v1::Certificate> ParseCurrent(
      const ParsedResponse& response, const Target& target,
      std::string* base64_content) const;
  /// Counts a write whose deployment did not reach every environment.
  void ReportDeployment(Operation op, const v1::DeploymentResult& result) const;
  std::string CertificatesUrl(const std::string& project) const;
  std::string CertificateUrl(const Target& target) const;

  const BackendConfig config_;
  RestExchange exchange_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_STUB_H_
