// Apinizer API Ops in certctl: names backends/{b}/projects/{p}/certificates/
// {n}, PEM uploads deployed to environments, JWK options on update and
// delete, and a deployment that can fail although the call succeeded.
#ifndef CERTBRIDGE_CLIENT_VENDORS_APINIZER_CLI_H_
#define CERTBRIDGE_CLIENT_VENDORS_APINIZER_CLI_H_

#include "client/vendors/cli_vendor.h"

namespace certbridge::cli {

class ApinizerCli final : public CliVendor {
 public:
  absl::string_view kind() const override { return "apinizer"; }
  absl::string_view display_name() const override { return "Apinizer"; }

  absl::string_view name_pattern() const override {
    return "backends/{backend}/projects/{project}/certificates/{name}";
  }
  absl::string_view parent_pattern() const override {
    return "backends/{backend}/projects/{project}";
  }

  std::set<std::string> FlagsFor(Verb verb) const override;
  absl::string_view create_file() const override { return "a PEM certificate"; }
  /// A create needs a name, an alias and environments.
  absl::Status CheckCommand(const Command& command) const override;

  std::vector<FieldFlag> FieldFlags(const Command& command) const override;
  absl::Status FillCertificate(const Command& command,
                               const LocalInputs& inputs,
                               v1::Certificate& cert) const override;
  /// The JWK action and scope.
  void FillUpdateOptions(const Command& command,
                         v1::UpdateCertificateRequest& request) const override;
  /// The JWK action.
  void FillDeleteOptions(const Command& command,
                         v1::DeleteCertificateRequest& request) const override;

  /// Drops the PEM certificate.
  void Redact(v1::Certificate& cert) const override;
  /// A deployment that failed in some environment.
  std::optional<CallWarning> WarningAfter(
      const v1::Certificate& cert) const override;
  /// An undeployment that failed in some environment.
  std::optional<CallWarning> WarningAfterDelete(
      const v1::DeleteCertificateResponse& response) const override;

  /// EXPIRES (the earliest end_time of its deployments), ALIAS,
  /// ENVIRONMENTS.
  std::vector<std::string> ListColumns() const override;
  std::vector<std::string> ListRow(const v1::Certificate& cert) const override;

  CliVendorHelp Help() const override;
};

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_VENDORS_APINIZER_CLI_H_
