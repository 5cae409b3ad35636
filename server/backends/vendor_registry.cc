#include "server/backends/vendor_registry.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace certbridge {
namespace {

bool IsKindName(absl::string_view kind) {
  if (kind.empty() || !absl::ascii_islower(kind[0])) return false;
  for (char c : kind) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status VendorRegistry::Register(std::shared_ptr<const Vendor> vendor) {
  const std::string kind(vendor->kind());
  if (!IsKindName(kind)) {
    return absl::InvalidArgumentError(
        absl::StrCat("vendor kind \"", kind, "\" is not [a-z][a-z0-9_-]*"));
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
