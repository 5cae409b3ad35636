#include "server/backends/vendor.h"

#include "absl/strings/str_cat.h"
#include "server/common/quote.h"

namespace certbridge {

absl::Status Vendor::CheckCertificateId(absl::string_view,
                                        absl::string_view) const {
  return absl::OkStatus();
}

const v1::DeploymentResult* Vendor::DeploymentOf(const v1::Certificate&) const {
  return nullptr;
}

std::optional<absl::Time> Vendor::ExpireTimeOf(const v1::Certificate&) const {
  return std::nullopt;
}

std::vector<EnvironmentExpiry> Vendor::ExpiriesOf(
    const v1::Certificate& certificate) const {
  std::vector<EnvironmentExpiry> out;
  if (std::optional<absl::Time> t = ExpireTimeOf(certificate)) {
    out.push_back({"", *t});
  }
  return out;
}

absl::Status Vendor::CheckOptions(const nlohmann::json& options,
                                  absl::string_view path) const {
  if (!options.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": backends of kind ", kind(), " take no options (found ",
        QuoteInput(options.begin().key()), ")"));
  }
  return absl::OkStatus();
}

}  // namespace certbridge
