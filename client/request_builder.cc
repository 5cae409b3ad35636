#include "client/request_builder.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace certbridge::cli {
namespace {

// One field flag and the mask path it sets.
struct FlagPath {
  const char* flag;
  const char* path;
  bool given;
};

std::vector<FlagPath> FieldFlags(const Command& command) {
  if (command.kind == ResourceKind::kLeegality) {
    return {
        {"--enabled", "leegality.enabled", command.enabled.has_value()},
        {"--department_id", "leegality.department_id",
         command.department_id.has_value()},
        {"--file", "leegality.pkcs12_file", command.file.has_value()},
    };
  }
  return {
      {"--description", "apinizer.description",
       command.description.has_value()},
      {"--alias", "apinizer.alias", command.alias.has_value()},
      {"--environments", "apinizer.environments",
       command.environments.has_value()},
      {"--file", "apinizer.pem_certificate", command.file.has_value()},
  };
}

absl::Status FillCertificate(const Command& command, const LocalInputs& inputs,
                             v1::Certificate& cert) {
  if (command.kind == ResourceKind::kLeegality) {
    v1::LeegalityCertificate& l = *cert.mutable_leegality();
    if (command.file) {
      if (!inputs.passkey) {
        return absl::InvalidArgumentError(
            "a PKCS#12 upload needs a passkey (--passkey_file, --passkey_env "
            "or the prompt)");
      }
      l.set_pkcs12_file(inputs.file_bytes);
      l.set_passkey(*inputs.passkey);
      l.set_file_name(UploadFileName(command));
    }
    if (command.department_id) l.set_department_id(*command.department_id);
    if (command.enabled) l.set_enabled(*command.enabled);
    return absl::OkStatus();
  }
  v1::ApinizerCertificate& a = *cert.mutable_apinizer();
  if (command.file) a.set_pem_certificate(inputs.file_bytes);
  if (command.description) a.set_description(*command.description);
  if (command.alias) a.set_alias(*command.alias);
  if (command.environments) {
    for (const auto& env : *command.environments) a.add_environments(env);
  }
  return absl::OkStatus();
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
  std::vector<std::string> mask;
  for (const auto& f : FieldFlags(command)) {
    if (f.given) mask.emplace_back(f.path);
  }
  if (command.kind == ResourceKind::kLeegality && command.file) {
    // The server wants the passkey named with the file it opens.
    mask.emplace_back("leegality.passkey");
    if (!UploadFileName(command).empty()) {
      mask.emplace_back("leegality.file_name");
    }
  }
  return mask;
}

v1::GetCertificateRequest BuildGetRequest(const Command& command) {
  v1::GetCertificateRequest request;
  request.set_name(command.target);
  return request;
}

v1::DeleteCertificateRequest BuildDeleteRequest(const Command& command) {
  v1::DeleteCertificateRequest request;
  request.set_name(command.target);
  request.set_jwk_delete_action(command.jwk_delete_action);
  return request;
}

absl::StatusOr<v1::CreateCertificateRequest> BuildCreateRequest(
    const Command& command, const LocalInputs& inputs) {
  v1::CreateCertificateRequest request;
  request.set_parent(command.target);
  request.set_certificate_id(command.certificate_id);
  request.set_request_id(command.request_id);
  if (auto s = FillCertificate(command, inputs, *request.mutable_certificate());
      !s.ok()) {
    return s;
  }
  return request;
}

absl::StatusOr<v1::UpdateCertificateRequest> BuildUpdateRequest(
    const Command& command, const LocalInputs& inputs) {
  std::vector<std::string> mask;
  if (command.update_mask) {
    mask = *command.update_mask;
    for (const auto& f : FieldFlags(command)) {
      if (f.given && !MaskHas(mask, f.path)) {
        return absl::InvalidArgumentError(absl::StrCat(
            f.flag, " sets ", f.path,
            ", which --update_mask does not name; add it to the mask or drop "
            "--update_mask to derive the mask from the flags"));
      }
    }
  } else {
    mask = DeriveUpdateMask(command);
    if (mask.empty()) {
      return absl::InvalidArgumentError(
          command.kind == ResourceKind::kLeegality
              ? "nothing to update: give --enabled, --department_id or --file "
                "(or --update_mask)"
              : "nothing to update: give --description, --alias, "
                "--environments or --file (or --update_mask)");
    }
  }
  v1::UpdateCertificateRequest request;
  v1::Certificate& cert = *request.mutable_certificate();
  cert.set_name(command.target);
  if (auto s = FillCertificate(command, inputs, cert); !s.ok()) return s;
  for (auto& path : mask) request.mutable_update_mask()->add_paths(path);
  request.set_jwk_update_action(command.jwk_update_action);
  request.set_jwk_update_scope(command.jwk_update_scope);
  return request;
}

}  // namespace certbridge::cli
