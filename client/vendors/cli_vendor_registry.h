// The vendors certctl knows, in registration order. The parser, the request
// builder, the output and the commands find vendors here and nowhere else;
// BuiltinCliVendors() holds the ones certctl ships, and tests may add their
// own to a copy.
#ifndef CERTBRIDGE_CLIENT_VENDORS_CLI_VENDOR_REGISTRY_H_
#define CERTBRIDGE_CLIENT_VENDORS_CLI_VENDOR_REGISTRY_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/vendors/cli_vendor.h"

namespace certbridge::cli {

class CliVendorRegistry {
 public:
  /// ALREADY_EXISTS when the kind is taken; INVALID_ARGUMENT when the kind
  /// is empty or a name or parent could have this vendor's shape and
  /// another's (a shape must tell its vendor).
  absl::Status Register(std::shared_ptr<const CliVendor> vendor);

  /// The vendor whose name shape `name` has; INVALID_ARGUMENT listing the
  /// shapes, for after "certctl: ", when none has.
  absl::StatusOr<const CliVendor*> VendorOfName(absl::string_view name) const;
  /// The same for a create parent.
  absl::StatusOr<const CliVendor*> VendorOfParent(
      absl::string_view parent) const;

  /// In registration order: the order of the shapes in messages and of the
  /// vendors' sections in help.
  const std::vector<std::shared_ptr<const CliVendor>>& vendors() const {
    return vendors_;
  }

 private:
  std::vector<std::shared_ptr<const CliVendor>> vendors_;
};

/// The vendors certctl ships (registered in cli_vendor_registry.cc), once.
const CliVendorRegistry& BuiltinCliVendors();

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_VENDORS_CLI_VENDOR_REGISTRY_H_
