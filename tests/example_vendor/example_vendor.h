// A third vendor that exists only in the tests: "example", a tiny REST API
// (POST/GET/DELETE {base}/v1/certs[/{id}], Bearer token, JSON). It proves
// that a vendor is a folder implementing server/backends/vendor.h plus one
// registration: nothing in the core names it, and the integration test
// serves it end to end through the real server, connection policies and
// curl transport. README "Adding a backend" walks through the same steps.
//
// It needs no message of its own in the proto: a certificate is its name,
// display_name and etag. (A real vendor adds its message to the
// Certificate oneof.)
#ifndef CERTBRIDGE_TESTS_EXAMPLE_VENDOR_EXAMPLE_VENDOR_H_
#define CERTBRIDGE_TESTS_EXAMPLE_VENDOR_EXAMPLE_VENDOR_H_

#include <memory>

#include "server/backends/vendor.h"

namespace certbridge::example {

class ExampleVendor final : public Vendor {
 public:
  absl::string_view kind() const override { return "example"; }
  absl::string_view display_name() const override { return "Example"; }

  bool names_have_project() const override { return false; }
  /// Ids are what callers chose on Create: lower-case letters, digits, '-'.
  absl::Status CheckCertificateId(absl::string_view id,
                                  absl::string_view field) const override;
  /// One option: "label" (a string, sent as the X-Example-Label header).
  absl::Status CheckOptions(const nlohmann::json& options,
                            absl::string_view path) const override;

  absl::Status ValidateCreate(const v1::CreateCertificateRequest& r,
                              absl::Time now,
                              const FileChecks& checks) const override;
  /// Update is not offered by the API: validation passes, and the stub
  /// keeps BackendStub's UNIMPLEMENTED.
  absl::Status ValidateUpdate(const v1::UpdateCertificateRequest& r,
                              absl::Time now,
                              const FileChecks& checks) const override;
  absl::Status ValidateDelete(
      const v1::DeleteCertificateRequest& r) const override;

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

}  // namespace certbridge::example

#endif  // CERTBRIDGE_TESTS_EXAMPLE_VENDOR_EXAMPLE_VENDOR_H_
