// The vendors a server knows, by kind. The service and the connection
// factory find vendors here and nowhere else; builtin_vendors.cc registers
// the ones certbridge ships, and tests may add their own to a copy.
#ifndef CERTBRIDGE_SERVER_BACKENDS_VENDOR_REGISTRY_H_
#define CERTBRIDGE_SERVER_BACKENDS_VENDOR_REGISTRY_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/backends/vendor.h"

namespace certbridge {

class VendorRegistry {
 public:
  /// ALREADY_EXISTS when the kind is taken; INVALID_ARGUMENT when the kind
  /// is not [a-z][a-z0-9_-]*.
  absl::Status Register(std::shared_ptr<const Vendor> vendor);
  /// Null when no vendor has that kind.
  const Vendor* Find(absl::string_view kind) const;
  /// The kinds, comma-separated: for messages naming what could be
  /// configured.
  std::string KindList() const;

 private:
  std::map<std::string, std::shared_ptr<const Vendor>, std::less<>> vendors_;
};

/// The vendors certbridge ships (builtin_vendors.cc), registered once.
const VendorRegistry& BuiltinVendors();

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_VENDOR_REGISTRY_H_
