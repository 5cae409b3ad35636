#include "client/vendors/cli_vendor.h"

#include "client/resource_shape.h"

namespace certbridge::cli {

bool CliVendor::HasNameShape(absl::string_view name) const {
  return MatchesShape(name_pattern(), name);
}

bool CliVendor::HasParentShape(absl::string_view parent) const {
  return MatchesShape(parent_pattern(), parent);
}

absl::Status CliVendor::CheckCommand(const Command&) const {
  return absl::OkStatus();
}

bool CliVendor::NeedsPasskey(const Command&) const { return false; }

std::vector<std::string> CliVendor::DeriveUpdateMask(
    const Command& command) const {
  std::vector<std::string> mask;
  for (const FieldFlag& f : FieldFlags(command)) {
    if (f.given) mask.emplace_back(f.path);
  }
  return mask;
}

void CliVendor::FillUpdateOptions(const Command&,
                                  v1::UpdateCertificateRequest&) const {}

void CliVendor::FillDeleteOptions(const Command&,
                                  v1::DeleteCertificateRequest&) const {}

std::optional<CallWarning> CliVendor::WarningAfter(
    const v1::Certificate&) const {
  return std::nullopt;
}

std::optional<CallWarning> CliVendor::WarningAfterDelete(
    const v1::DeleteCertificateResponse&) const {
  return std::nullopt;
}

std::vector<std::string> CliVendor::ListColumns() const { return {}; }

std::vector<std::string> CliVendor::ListRow(const v1::Certificate&) const {
  return {};
}

}  // namespace certbridge::cli
