#include "server/backends/vendor_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/resource_name.h"

namespace certbridge {

absl::Status VendorRegistry::Register(std::shared_ptr<const Vendor> vendor) {
  const std::string kind(vendor->kind());
  if (!IsValidKindName(kind)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vendor kind \"", kind, "\" is not [a-z][a-z0-9_-]{0,31}"));
  }
  if (!vendors_.emplace(kind, std::move(vendor)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("vendor kind \"", kind, "\" is registered twice"));
  }
  return absl::OkStatus();
}

const Vendor* VendorRegistry::Find(absl::string_view kind) const {
  auto it = vendors_.find(kind);
  return it == vendors_.end() ? nullptr : it->second.get();
}

std::string VendorRegistry::KindList() const {
  return absl::StrJoin(vendors_, ", ", [](std::string* out, const auto& v) {
    out->append(v.first);
  });
}

}  // namespace certbridge
