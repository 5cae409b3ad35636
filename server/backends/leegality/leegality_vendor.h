// Leegality SignStation as a certbridge vendor: names
// backends/{b}/certificates/{uuid}, PKCS#12 uploads, X-Auth-Token, a JSON
// token request at /api/v1/auth/token with the token in a `data` envelope.
#ifndef CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_VENDOR_H_
#define CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_VENDOR_H_

#include <memory>

#include "server/backends/vendor.h"

namespace certbridge {

class LeegalityVendor final : public Vendor {
 public:
  absl::string_view kind() const override { return "leegality"; }
  absl::string_view display_name() const override { return "Leegality"; }

  bool names_have_project() const override { return false; }
  /// SignStation ids are UUIDs.
  absl::Status CheckCertificateId(absl::string_view id,
                                  absl::string_view field) const override;

  absl::Status ValidateCreate(const v1::CreateCertificateRequest& r,
                              absl::Time now,
                              const FileChecks& checks) const override;
  absl::Status ValidateUpdate(const v1::UpdateCertificateRequest& r,
                              absl::Time now,
                              const FileChecks& checks) const override;
  absl::Status ValidateDelete(
      const v1::DeleteCertificateRequest& r) const override;
  /// `leegality.expire_time`, when SignStation's expiry parsed.
  std::optional<absl::Time> ExpireTimeOf(
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

#endif  // CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_VENDOR_H_
