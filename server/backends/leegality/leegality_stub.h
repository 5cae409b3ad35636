// BackendStub for Leegality SignStation: the four certificate operations on
// {server root}/api/v1/certificates[/{id}] exactly as the vendor pages show
// them, authenticated with X-Auth-Token (or Bearer), uploading the PKCS#12
// file as multipart/form-data although a table on the pages says JSON.
#ifndef CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_STUB_H_
#define CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_STUB_H_

#include <memory>
#include <string>

#include "server/backends/backend_stub.h"
#include "server/backends/rest_exchange.h"
#include "server/backends/token_source.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"

namespace certbridge {

class LeegalityStub final : public BackendStub {
 public:
  /// `transport` must outlive the stub; `observer` may be null.
  LeegalityStub(BackendConfig config, HttpTransport& transport,
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
  /// SignStation has no list endpoint (leegality.md §4, quirk 11): reads
  /// GET .../certificates/expiring-soon with kListHorizonDays, which lists
  /// every ENABLED certificate that has an expiry, soonest first.
  void ListCertificates(std::shared_ptr<CallContext> ctx,
                        const ParentName& parent,
                        const v1::ListCertificatesRequest& request,
                        Done<CertificateList> done) override;

  /// The `days` of the expiring-soon report a list asks for: from any date
  /// after 1786 it reaches past 9999-12-31, the latest expiry an X.509
  /// certificate can state, and it fits the vendor's Java int.
  static constexpr int kListHorizonDays = 3'000'000;

 private:
  using ResponseHandler = RestExchange::ResponseHandler;

  /// Parses a 2xx body as a certificate, or reports it malformed. The body
  /// is not trusted over the request: with `expected_id`, a certificate
  /// with another id is malformed; without (Create), the id must be a UUID.
  ResponseHandler CertificateHandler(std::string expected_id,
                                     Done<v1::Certificate> done) const;
  std::string CertificatesUrl() const;
  std::string CertificateUrl(const std::string& id) const;

  const BackendConfig config_;
  RestExchange exchange_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_STUB_H_
