// The shipped vendor of a kind, for tests that build connections by hand.
// Link certbridge_vendors.
#ifndef CERTBRIDGE_TESTS_TESTING_BUILTIN_VENDOR_H_
#define CERTBRIDGE_TESTS_TESTING_BUILTIN_VENDOR_H_

#include <cstdlib>

#include "absl/strings/string_view.h"
#include "server/backends/vendor_registry.h"

namespace certbridge {

inline const Vendor& BuiltinVendor(absl::string_view kind) {
  const Vendor* vendor = BuiltinVendors().Find(kind);
  if (vendor == nullptr) std::abort();  // a typo in a test
  return *vendor;
}

}  // namespace certbridge

#endif  // CERTBRIDGE_TESTS_TESTING_BUILTIN_VENDOR_H_
