// Everything certctl knows about one vendor, behind one interface (the
// client's counterpart of server/backends/vendor.h). A vendor's files under
// client/vendors/ implement it completely and cli_vendor_registry.cc
// registers one instance; the parser, the request builder, the output and
// the commands reach vendors only through a CliVendorRegistry, so adding one
// touches nothing else.
//
// Instances are immutable: a parsed Command points at one for its lifetime.
#ifndef CERTBRIDGE_CLIENT_VENDORS_CLI_VENDOR_H_
#define CERTBRIDGE_CLIENT_VENDORS_CLI_VENDOR_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "client/command.h"

namespace certbridge::cli {

/// A field flag of an update and the update-mask path it sets.
struct FieldFlag {
  absl::string_view flag;  // "--alias"
  absl::string_view path;  // "apinizer.alias"
  bool given;
};

/// What an OK call still has to report: a script must not take it for
/// success.
struct CallWarning {
  std::string text;  // for stderr, ending in "\n"
  int exit_code;
};

/// An exit code a vendor's CallWarning returns, for `certctl help`.
struct ExitCodeHelp {
  int code;
  std::string meaning;  // one sentence, unwrapped
};

/// How `certctl help` presents a vendor; UsageText lays the parts out.
struct CliVendorHelp {
  /// The product, after the name pattern in "NAME is ...".
  std::string product;
  /// The vendor's flag section: a title line and the flags, each line
  /// ending in "\n".
  std::string flags;
  /// An update-mask path, for the --update_mask example.
  std::string mask_example;
  /// What --file adds to a derived update mask, as a phrase.
  std::string file_mask;
  std::vector<ExitCodeHelp> exit_codes;
};

class CliVendor {
 public:
  virtual ~CliVendor() = default;

  /// The server's kind for the same vendor: [a-z][a-z0-9_-]*.
  virtual absl::string_view kind() const = 0;
  /// For messages: the product's name, capitalised.
  virtual absl::string_view display_name() const = 0;

  // --- Resource names (resource_shape.h) ---------------------------------
  /// The shape of its certificate names, also shown in help and errors.
  virtual absl::string_view name_pattern() const = 0;
  /// The shape of the parent `certctl create` takes.
  virtual absl::string_view parent_pattern() const = 0;
  bool HasNameShape(absl::string_view name) const;
  bool HasParentShape(absl::string_view parent) const;

  // --- The command line ---------------------------------------------------
  /// The flags besides the global ones that `verb` accepts on its
  /// resources.
  virtual std::set<std::string> FlagsFor(Verb verb) const = 0;
  /// What `certctl create` must upload with --file, for the message when
  /// it is missing; empty when create takes no file.
  virtual absl::string_view create_file() const = 0;
  /// The vendor's own rules across flags, after the generic ones:
  /// INVALID_ARGUMENT with a message to print after "certctl: ".
  virtual absl::Status CheckCommand(const Command& command) const;
  /// Whether the command's --file needs a passkey, read before any call.
  virtual bool NeedsPasskey(const Command& command) const;

  // --- Requests -----------------------------------------------------------
  /// The field flags of an update, in the order of a derived mask.
  virtual std::vector<FieldFlag> FieldFlags(const Command& command) const = 0;
  /// The update mask when --update_mask is not given. Default: the paths
  /// of the field flags given.
  virtual std::vector<std::string> DeriveUpdateMask(
      const Command& command) const;
  /// Sets the vendor's part of a certificate to create or update.
  virtual absl::Status FillCertificate(const Command& command,
                                       const LocalInputs& inputs,
                                       v1::Certificate& cert) const = 0;
  /// Sets the vendor's options of an update (the request's own fields, not
  /// the certificate's). Default: none.
  virtual void FillUpdateOptions(const Command& command,
                                 v1::UpdateCertificateRequest& request) const;
  /// Sets the vendor's options of a delete. Default: none.
  virtual void FillDeleteOptions(const Command& command,
                                 v1::DeleteCertificateRequest& request) const;

  // --- Results ------------------------------------------------------------
  // A server may answer with any vendor's fields, so certctl asks every
  // vendor about every result, not only the one of the command.
  /// Clears the vendor's input-only fields (secrets) before printing.
  virtual void Redact(v1::Certificate& cert) const = 0;
  /// The warning an OK get, create or update still leaves. Default: none.
  virtual std::optional<CallWarning> WarningAfter(
      const v1::Certificate& cert) const;
  /// The warning an OK delete still leaves. Default: none.
  virtual std::optional<CallWarning> WarningAfterDelete(
      const v1::DeleteCertificateResponse& response) const;

  /// The vendor's columns of `certctl list`'s table, after NAME (its
  /// certificates' expiry first, when it has one). Default: none.
  virtual std::vector<std::string> ListColumns() const;
  /// The cells of one certificate for ListColumns(), already text.
  virtual std::vector<std::string> ListRow(const v1::Certificate& cert) const;

  // --- Help ---------------------------------------------------------------
  virtual CliVendorHelp Help() const = 0;
};

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_VENDORS_CLI_VENDOR_H_
