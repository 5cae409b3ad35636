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
