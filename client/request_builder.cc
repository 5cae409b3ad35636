#include "client/request_builder.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/text_layout.h"
#include "client/vendors/cli_vendor.h"

namespace certbridge::cli {
namespace {

// Get and delete name their resource only; create and update need the
// vendor to fill it, which a Command that was not parsed lacks.
absl::Status NeedVendor(const Command& command) {
  if (command.vendor != nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("\"", command.target, "\" names no resource certctl knows"));
}

bool MaskHas(const std::vector<std::string>& mask, absl::string_view path) {
  for (const auto& p : mask) {
    if (p == "*" || p == path) return true;
  }
  return false;
}

}  // namespace

std::string UploadFileName(const Command& command) {
  if (command.file_name) return *command.file_name;
  if (!command.file) return "";
  absl::string_view base = *command.file;
  const size_t slash = base.rfind('/');
  if (slash != absl::string_view::npos) base.remove_prefix(slash + 1);
  const std::string lower = absl::AsciiStrToLower(base);
  if (absl::EndsWith(lower, ".p12") || absl::EndsWith(lower, ".pfx")) {
    return std::string(base);
  }
  return "";
}

std::vector<std::string> DeriveUpdateMask(const Command& command) {
  if (command.vendor == nullptr) return {};
  return command.vendor->DeriveUpdateMask(command);
}

v1::GetCertificateRequest BuildGetRequest(const Command& command) {
  v1::GetCertificateRequest request;
  request.set_name(command.target);
  return request;
}

v1::DeleteCertificateRequest BuildDeleteRequest(const Command& command) {
  v1::DeleteCertificateRequest request;
  request.set_name(command.target);
  if (command.vendor != nullptr) {
    command.vendor->FillDeleteOptions(command, request);
  }
  return request;
}

v1::ListCertificatesRequest BuildListRequest(const Command& command) {
  v1::ListCertificatesRequest request;
  request.set_parent(command.target);
  request.set_page_size(command.page_size);
  request.set_page_token(command.page_token);
  request.set_filter(command.filter);
  request.set_order_by(command.order_by);
  return request;
}

absl::StatusOr<v1::CreateCertificateRequest> BuildCreateRequest(
    const Command& command, const LocalInputs& inputs) {
  if (auto s = NeedVendor(command); !s.ok()) return s;
  v1::CreateCertificateRequest request;
  request.set_parent(command.target);
  request.set_certificate_id(command.certificate_id);
  request.set_request_id(command.request_id);
  if (auto s = command.vendor->FillCertificate(command, inputs,
                                               *request.mutable_certificate());
      !s.ok()) {
    return s;
  }
  return request;
}

absl::StatusOr<v1::UpdateCertificateRequest> BuildUpdateRequest(
    const Command& command, const LocalInputs& inputs) {
  if (auto s = NeedVendor(command); !s.ok()) return s;
  const CliVendor& vendor = *command.vendor;
  std::vector<std::string> mask;
  if (command.update_mask) {
    mask = *command.update_mask;
    for (const FieldFlag& f : vendor.FieldFlags(command)) {
      if (f.given && !MaskHas(mask, f.path)) {
        return absl::InvalidArgumentError(absl::StrCat(
            f.flag, " sets ", f.path,
            ", which --update_mask does not name; add it to the mask or drop "
            "--update_mask to derive the mask from the flags"));
      }
    }
  } else {
    mask = vendor.DeriveUpdateMask(command);
    if (mask.empty()) {
      std::vector<std::string> flags;
      for (const FieldFlag& f : vendor.FieldFlags(command)) {
        flags.emplace_back(f.flag);
      }
      return absl::InvalidArgumentError(absl::StrCat("nothing to update: give ",
                                                     JoinAlternatives(flags),
                                                     " (or --update_mask)"));
    }
  }
  v1::UpdateCertificateRequest request;
  v1::Certificate& cert = *request.mutable_certificate();
  cert.set_name(command.target);
  if (auto s = vendor.FillCertificate(command, inputs, cert); !s.ok()) {
    return s;
  }
  for (auto& path : mask) request.mutable_update_mask()->add_paths(path);
  vendor.FillUpdateOptions(command, request);
  return request;
}

}  // namespace certbridge::cli
