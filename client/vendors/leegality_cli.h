// Leegality SignStation in certctl: names backends/{b}/certificates/{id},
// PKCS#12 uploads opened with a passkey, an enabled flag and a department.
#ifndef CERTBRIDGE_CLIENT_VENDORS_LEEGALITY_CLI_H_
#define CERTBRIDGE_CLIENT_VENDORS_LEEGALITY_CLI_H_

#include "client/vendors/cli_vendor.h"

namespace certbridge::cli {

class LeegalityCli final : public CliVendor {
 public:
  absl::string_view kind() const override { return "leegality"; }
  absl::string_view display_name() const override { return "Leegality"; }

  absl::string_view name_pattern() const override {
    return "backends/{backend}/certificates/{id}";
  }
  absl::string_view parent_pattern() const override {
    return "backends/{backend}";
  }

  std::set<std::string> FlagsFor(Verb verb) const override;
  absl::string_view create_file() const override {
    return "a PKCS#12 .p12/.pfx";
  }
  /// A create or update with --file uploads a PKCS#12.
  bool NeedsPasskey(const Command& command) const override;

  std::vector<FieldFlag> FieldFlags(const Command& command) const override;
  /// The field flags' paths, and with --file the passkey (and file name)
  /// the server opens the new file with.
  std::vector<std::string> DeriveUpdateMask(
      const Command& command) const override;
  absl::Status FillCertificate(const Command& command,
                               const LocalInputs& inputs,
                               v1::Certificate& cert) const override;

  /// Drops the PKCS#12 file and its passkey.
  void Redact(v1::Certificate& cert) const override;
  /// EXPIRES, ENABLED, DEPARTMENT, DISPLAY_NAME.
  std::vector<std::string> ListColumns() const override;
  std::vector<std::string> ListRow(const v1::Certificate& cert) const override;

  CliVendorHelp Help() const override;
};

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_VENDORS_LEEGALITY_CLI_H_
