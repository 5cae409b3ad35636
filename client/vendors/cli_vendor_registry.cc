#include "client/vendors/cli_vendor_registry.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/resource_shape.h"
#include "client/text_layout.h"
#include "client/vendors/apinizer_cli.h"
#include "client/vendors/leegality_cli.h"

namespace certbridge::cli {
namespace {

absl::string_view NamePattern(const CliVendor& v) { return v.name_pattern(); }
absl::string_view ParentPattern(const CliVendor& v) {
  return v.parent_pattern();
}

// "A (Vendor1) or B (Vendor2)": every shape `pattern` picks, for messages.
std::string ShapeList(const CliVendorRegistry& registry,
                      absl::string_view (*pattern)(const CliVendor&)) {
  std::vector<std::string> shapes;
  for (const auto& v : registry.vendors()) {
    shapes.push_back(absl::StrCat(pattern(*v), " (", v->display_name(), ")"));
  }
  return JoinAlternatives(shapes);
}

}  // namespace

absl::Status CliVendorRegistry::Register(
    std::shared_ptr<const CliVendor> vendor) {
  if (vendor->kind().empty()) {
    return absl::InvalidArgumentError("a certctl vendor needs a kind");
  }
  for (const auto& other : vendors_) {
    if (other->kind() == vendor->kind()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "certctl vendor \"", vendor->kind(), "\" is registered twice"));
    }
    for (auto pattern : {&NamePattern, &ParentPattern}) {
      if (ShapesOverlap(pattern(*other), pattern(*vendor))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "certctl vendor \"", vendor->kind(), "\": ", pattern(*vendor),
            " overlaps ", pattern(*other), " of \"", other->kind(), "\""));
      }
    }
  }
  vendors_.push_back(std::move(vendor));
  return absl::OkStatus();
}

absl::StatusOr<const CliVendor*> CliVendorRegistry::VendorOfName(
    absl::string_view name) const {
  for (const auto& v : vendors_) {
    if (v->HasNameShape(name)) return v.get();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "NAME must be ", ShapeList(*this, &NamePattern), "; got \"", name, "\""));
}

absl::StatusOr<const CliVendor*> CliVendorRegistry::VendorOfParent(
    absl::string_view parent) const {
  for (const auto& v : vendors_) {
    if (v->HasParentShape(parent)) return v.get();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("PARENT must be ", ShapeList(*this, &ParentPattern),
                   "; got \"", parent, "\""));
}

// The one place that lists the vendors certctl ships; their order is the
// order of `certctl help` and of the shapes in messages.
const CliVendorRegistry& BuiltinCliVendors() {
  static const CliVendorRegistry* const registry = [] {
    auto* r = new CliVendorRegistry;
    // Distinct kinds and shapes: registration cannot fail.
    (void)r->Register(std::make_shared<LeegalityCli>());
    (void)r->Register(std::make_shared<ApinizerCli>());
    return r;
  }();
  return *registry;
}

}  // namespace certbridge::cli
