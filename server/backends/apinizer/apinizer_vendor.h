// Apinizer API Ops as a certbridge vendor: names
// backends/{b}/projects/{p}/certificates/{name}, PEM uploads deployed to
// environments, Bearer tokens from a form-encoded client_credentials
// request at /auth/token, and 400s read by their message.
#ifndef CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_VENDOR_H_
#define CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_VENDOR_H_

#include <memory>

#include "server/backends/vendor.h"

namespace certbridge {

class ApinizerVendor final : public Vendor {
 public:
  absl::string_view kind() const override { return "apinizer"; }
  absl::string_view display_name() const override { return "Apinizer"; }

  bool names_have_project() const override { return true; }

  absl::Status ValidateCreate(const v1::CreateCertificateRequest& r,
                              absl::Time now,
                              const FileChecks& checks) const override;
  absl::Status ValidateUpdate(const v1::UpdateCertificateRequest& r,
                              absl::Time now,
                              const FileChecks& checks) const override;
  absl::Status ValidateDelete(
      const v1::DeleteCertificateRequest& r) const override;

  const v1::DeploymentResult* DeploymentOf(
      const v1::Certificate& certificate) const override;
  /// The earliest end_time of its deployments: one certificate can be
  /// deployed with different validity per environment (re-uploads,
  /// imports), and the first expiry is the one that breaks something.
  std::optional<absl::Time> ExpireTimeOf(
      const v1::Certificate& certificate) const override;
  /// Each deployment's end_time under its environment's name.
  std::vector<EnvironmentExpiry> ExpiriesOf(
      const v1::Certificate& certificate) const override;

  std::unique_ptr<BackendStub> MakeStub(
      const BackendConfig& config, HttpTransport& transport,
      std::shared_ptr<TokenSource> tokens,
      std::shared_ptr<BackendObserver> observer) const override;

  void BuildTokenRequest(const BackendConfig& config,
                         absl::string_view client_secret,
                         HttpRequest& request) const override;
  absl::StatusOr<IssuedToken> ParseTokenResponse(absl::string_view body,
                                                 absl::Time now) const override;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_VENDOR_H_
