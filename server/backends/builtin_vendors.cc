// The one place that lists the vendors certbridge ships. Adding a vendor:
// its folder under server/backends/, its library in server/CMakeLists.txt,
// and one Register line here (README "Adding a backend").
#include "server/backends/apinizer/apinizer_vendor.h"
#include "server/backends/leegality/leegality_vendor.h"
#include "server/backends/vendor_registry.h"

namespace certbridge {

const VendorRegistry& BuiltinVendors() {
  static const VendorRegistry* const registry = [] {
    auto* r = new VendorRegistry;
    // Kinds are distinct constants: registration cannot fail.
    (void)r->Register(std::make_shared<LeegalityVendor>());
    (void)r->Register(std::make_shared<ApinizerVendor>());
    return r;
  }();
  return *registry;
}

}  // namespace certbridge
