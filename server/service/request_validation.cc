#include "server/service/request_validation.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/backends/update_mask.h"
#include "server/common/errors.h"
#include "server/service/certificate_checks.h"

namespace certbridge {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return MakeValidationError(reason::kInvalidArgument, field, why);
}

absl::Status NameError(absl::string_view field, absl::string_view why) {
  return MakeValidationError(reason::kInvalidName, field, why);
}

absl::StatusOr<BackendConnection*> FindBackend(const BackendRegistry& registry,
                                               const std::string& backend,
                                               bool has_project,
                                               absl::string_view field) {
  BackendConnection* connection = registry.Find(backend);
  if (connection == nullptr) {
    return NameError(field,
                     absl::StrCat("no backend instance named \"", backend,
                                  "\" is configured"));
  }
  const bool wants_project = connection->kind() == BackendKind::kApinizer;
  if (has_project != wants_project) {
    return NameError(
        field, absl::StrCat("backend \"", backend, "\" is of kind ",
                            BackendKindName(connection->kind()),
                            wants_project
                                ? ": names are backends/{backend}/projects/"
                                  "{project}/certificates/{name}"
                                : ": names are backends/{backend}/"
                                  "certificates/{id}"));
  }
  return connection;
}

absl::Status CheckFileSize(const std::string& bytes, absl::string_view field) {
  if (bytes.size() > kMaxCertificateFileBytes) {
    return MakeValidationError(
        reason::kFileTooLarge, field,
        absl::StrCat("is ", bytes.size(), " bytes; the limit is ",
                     kMaxCertificateFileBytes, " bytes (5 MiB)"));
  }
  return absl::OkStatus();
}

absl::Status CheckLeegalityFileName(const std::string& name) {
  if (name.empty()) return absl::OkStatus();
  constexpr absl::string_view kField = "certificate.leegality.file_name";
  if (name.size() > 255) return Invalid(kField, "is longer than 255 bytes");
  for (char c : name) {
    if (c == '/' || c == '\\' || absl::ascii_iscntrl(c)) {
      return Invalid(kField,
                     "must not contain path separators or control characters");
    }
  }
  const std::string lower = absl::AsciiStrToLower(name);
  if (!absl::EndsWith(lower, ".p12") && !absl::EndsWith(lower, ".pfx")) {
    // SignStation accepts .p12/.pfx uploads only.
    return Invalid(kField, "must end in .p12 or .pfx");
  }
  return absl::OkStatus();
}

absl::Status CheckPkcs12Upload(const v1::LeegalityCertificate& cert,
                               absl::Time now) {
  constexpr absl::string_view kField = "certificate.leegality.pkcs12_file";
  if (cert.pkcs12_file().empty()) return Invalid(kField, "is required");
  if (auto s = CheckFileSize(cert.pkcs12_file(), kField); !s.ok()) return s;
  auto facts = CheckPkcs12(cert.pkcs12_file(), cert.passkey(), now, kField);
  return facts.status();
}

absl::Status CheckDepartment(const std::string& id) {
  if (!id.empty() && !IsUuid(id)) {
    return Invalid("certificate.leegality.department_id", "must be a UUID");
  }
  return absl::OkStatus();
}

absl::Status ValidateLeegalityCreate(const v1::CreateCertificateRequest& r,
                                     absl::Time now) {
  if (!r.certificate_id().empty()) {
    return Invalid("certificate_id",
                   "must be empty for Leegality backends (SignStation assigns "
                   "the id)");
  }
  if (!r.certificate().has_leegality()) {
    return Invalid("certificate.leegality",
                   "is required for a Leegality backend");
  }
  const v1::LeegalityCertificate& cert = r.certificate().leegality();
  if (auto s = CheckLeegalityFileName(cert.file_name()); !s.ok()) return s;
  if (auto s = CheckDepartment(cert.department_id()); !s.ok()) return s;
  return CheckPkcs12Upload(cert, now);
}

absl::Status ValidateLeegalityUpdate(const v1::UpdateCertificateRequest& r,
                                     absl::Time now) {
  static const std::set<std::string> kPaths = {
      "*", "leegality.enabled", "leegality.department_id",
      "leegality.pkcs12_file", "leegality.passkey", "leegality.file_name"};
  const auto& mask = r.update_mask();
  if (mask.paths().empty()) {
    return Invalid("update_mask", "must name at least one field");
  }
  for (const auto& path : mask.paths()) {
    if (kPaths.count(path) == 0) {
      return Invalid("update_mask",
                     absl::StrCat("\"", path,
                                  "\" cannot be updated on a Leegality "
                                  "certificate"));
    }
  }
  if (!r.certificate().has_leegality()) {
    return Invalid("certificate.leegality",
                   "is required for a Leegality backend");
  }
  const v1::LeegalityCertificate& cert = r.certificate().leegality();
  const bool wildcard = MaskCovers(mask, "*") && mask.paths_size() == 1;
  if (MaskCovers(mask, "leegality.enabled") && !cert.has_enabled() &&
      !wildcard) {
    return Invalid("certificate.leegality.enabled",
                   "is in update_mask but not set");
  }
  if (MaskCovers(mask, "leegality.department_id")) {
    if (cert.department_id().empty() && !wildcard) {
      return Invalid("certificate.leegality.department_id",
                     "is in update_mask but empty (SignStation cannot clear a "
                     "department)");
    }
    if (auto s = CheckDepartment(cert.department_id()); !s.ok()) return s;
  }
  if (auto s = CheckLeegalityFileName(cert.file_name()); !s.ok()) return s;
  const bool file_in_mask = MaskCovers(mask, "leegality.pkcs12_file");
  if ((file_in_mask && !wildcard) || !cert.pkcs12_file().empty()) {
    return CheckPkcs12Upload(cert, now);
  }
  if (MaskCovers(mask, "leegality.passkey") && !wildcard) {
    return Invalid("update_mask",
                   "leegality.passkey can only change together with "
                   "leegality.pkcs12_file");
  }
  return absl::OkStatus();
}

absl::Status CheckRequestId(const std::string& request_id) {
  if (!request_id.empty() && !IsUuid(request_id)) {
    return Invalid("request_id", "must be a UUID (AIP-155)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BackendConnection*> RouteCertificateName(
    const BackendRegistry& registry, absl::string_view name,
    absl::string_view field) {
  auto parsed = ParseCertificateName(name, field);
  if (!parsed.ok()) return parsed.status();
  auto connection =
      FindBackend(registry, parsed->backend, parsed->has_project, field);
  if (!connection.ok()) return connection;
  if ((*connection)->kind() == BackendKind::kLeegality &&
      !IsUuid(parsed->certificate)) {
    return NameError(field, absl::StrCat("Leegality certificate ids are UUIDs; \"",
                                         parsed->certificate, "\" is not"));
  }
  return connection;
}

absl::StatusOr<BackendConnection*> RouteParent(const BackendRegistry& registry,
                                               absl::string_view parent,
                                               absl::string_view field) {
  auto parsed = ParseParentName(parent, field);
  if (!parsed.ok()) return parsed.status();
  return FindBackend(registry, parsed->backend, parsed->has_project, field);
}

absl::Status ValidateCreate(BackendKind kind,
                            const v1::CreateCertificateRequest& request,
                            absl::Time now) {
  if (auto s = CheckRequestId(request.request_id()); !s.ok()) return s;
  if (!request.has_certificate()) return Invalid("certificate", "is required");
  switch (kind) {
    case BackendKind::kLeegality:
      return ValidateLeegalityCreate(request, now);
    case BackendKind::kApinizer:
      break;  // TODO(#3): Apinizer validation arrives with its stub.
  }
  return absl::OkStatus();
}

absl::Status ValidateUpdate(BackendKind kind,
                            const v1::UpdateCertificateRequest& request,
                            absl::Time now) {
  switch (kind) {
    case BackendKind::kLeegality:
      return ValidateLeegalityUpdate(request, now);
    case BackendKind::kApinizer:
      break;  // TODO(#3)
  }
  return absl::OkStatus();
}

absl::Status ValidateDelete(BackendKind kind,
                            const v1::DeleteCertificateRequest& request) {
  if (kind == BackendKind::kLeegality &&
      request.jwk_delete_action() != v1::JWK_DELETE_ACTION_UNSPECIFIED) {
    return Invalid("jwk_delete_action",
                   "applies to Apinizer backends only");
  }
  if (!v1::JwkDeleteAction_IsValid(request.jwk_delete_action())) {
    return Invalid("jwk_delete_action", "unknown value");
  }
  return absl::OkStatus();
}

}  // namespace certbridge
