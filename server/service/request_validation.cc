#include "server/service/request_validation.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/backends/leegality/leegality_update.h"
#include "server/backends/update_mask.h"
#include "server/common/errors.h"
#include "server/common/quote.h"
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
    return NameError(field, absl::StrCat("no backend instance named \"",
                                         backend, "\" is configured"));
  }
  const bool wants_project = connection->kind() == BackendKind::kApinizer;
  if (has_project != wants_project) {
    return NameError(
        field,
        absl::StrCat("backend \"", backend, "\" is of kind ",
                     BackendKindName(connection->kind()),
                     wants_project ? ": names are backends/{backend}/projects/"
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

// An update mask names at least one path, each one `allowed` for the kind.
absl::Status CheckMaskPaths(const google::protobuf::FieldMask& mask,
                            const std::set<std::string>& allowed,
                            absl::string_view kind) {
  if (mask.paths().empty()) {
    return Invalid("update_mask", "must name at least one field");
  }
  for (const auto& path : mask.paths()) {
    if (allowed.count(path) == 0) {
      return Invalid("update_mask",
                     absl::StrCat(QuoteInput(path), " cannot be updated on ",
                                  kind, " certificate"));
    }
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

// Runs a check that opens an uploaded file now, or hands it back to be run
// on the check pool.
absl::Status RunOrDefer(const FileChecks& checks, FileCheck check) {
  if (checks.deferred == nullptr) return std::move(check)();
  *checks.deferred = std::move(check);
  return absl::OkStatus();
}

absl::Status CheckPkcs12Upload(const v1::LeegalityCertificate& cert,
                               absl::Time now, const FileChecks& checks) {
  constexpr absl::string_view kField = "certificate.leegality.pkcs12_file";
  if (cert.pkcs12_file().empty()) return Invalid(kField, "is required");
  if (auto s = CheckFileSize(cert.pkcs12_file(), kField); !s.ok()) return s;
  const Pkcs12Limits limits = checks.pkcs12;
  return RunOrDefer(checks, [&cert, now, limits] {
    return CheckPkcs12(cert.pkcs12_file(), cert.passkey(), now,
                       "certificate.leegality.pkcs12_file", limits)
        .status();
  });
}

absl::Status CheckDepartment(const std::string& id) {
  if (!id.empty() && !IsUuid(id)) {
    return Invalid("certificate.leegality.department_id", "must be a UUID");
  }
  return absl::OkStatus();
}

absl::Status ValidateLeegalityCreate(const v1::CreateCertificateRequest& r,
                                     absl::Time now, const FileChecks& checks) {
  if (!r.certificate_id().empty()) {
    return Invalid("certificate_id",
                   "must be empty for Leegality backends (SignStation assigns "
                   "the id)");
  }
  if (r.certificate().has_apinizer()) {
    return Invalid("certificate.apinizer",
                   "does not apply to a Leegality backend");
  }
  if (!r.certificate().has_leegality()) {
    return Invalid("certificate.leegality",
                   "is required for a Leegality backend");
  }
  const v1::LeegalityCertificate& cert = r.certificate().leegality();
  if (auto s = CheckLeegalityFileName(cert.file_name()); !s.ok()) return s;
  if (auto s = CheckDepartment(cert.department_id()); !s.ok()) return s;
  return CheckPkcs12Upload(cert, now, checks);
}

absl::Status ValidateLeegalityUpdate(const v1::UpdateCertificateRequest& r,
                                     absl::Time now, const FileChecks& checks) {
  static const std::set<std::string> kPaths = {"*",
                                               "leegality.enabled",
                                               "leegality.department_id",
                                               "leegality.pkcs12_file",
                                               "leegality.passkey",
                                               "leegality.file_name"};
  const auto& mask = r.update_mask();
  if (auto s = CheckMaskPaths(mask, kPaths, "a Leegality"); !s.ok()) return s;
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
  for (const char* rider : {"leegality.passkey", "leegality.file_name"}) {
    // Both only travel with a new file.
    if (MaskCovers(mask, rider) && !wildcard && !file_in_mask) {
      return Invalid("update_mask",
                     absl::StrCat(rider,
                                  " can only change together with "
                                  "leegality.pkcs12_file"));
    }
  }
  if (LeegalityUpdateParts(r).empty()) {
    // SignStation would get an empty PUT and answer OK having changed
    // nothing; the caller would believe the update happened.
    return Invalid("update_mask",
                   "selects nothing to change: set the fields it names");
  }
  if ((file_in_mask && !wildcard) || !cert.pkcs12_file().empty()) {
    return CheckPkcs12Upload(cert, now, checks);
  }
  return absl::OkStatus();
}

// Apinizer joins environments into one comma-separated form value (§7.5),
// so a name with a comma would silently become two environments.
absl::Status CheckEnvironments(const v1::ApinizerCertificate& cert) {
  constexpr absl::string_view kField = "certificate.apinizer.environments";
  if (cert.environments().empty()) {
    return Invalid(kField, "must name at least one environment");
  }
  std::set<std::string> seen;
  for (const std::string& env : cert.environments()) {
    if (env.empty() || absl::StrContains(env, ',') ||
        absl::StripAsciiWhitespace(env) != env) {
      return Invalid(kField,
                     "entries must be non-empty, without commas or "
                     "surrounding spaces");
    }
    if (!seen.insert(env).second) {
      return Invalid(kField, absl::StrCat(QuoteInput(env), " is listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPemUpload(const v1::ApinizerCertificate& cert, absl::Time now,
                            const FileChecks& checks) {
  constexpr absl::string_view kField = "certificate.apinizer.pem_certificate";
  if (cert.pem_certificate().empty()) return Invalid(kField, "is required");
  if (auto s = CheckFileSize(cert.pem_certificate(), kField); !s.ok()) {
    return s;
  }
  return RunOrDefer(checks, [&cert, now] {
    return CheckPemCertificate(cert.pem_certificate(), now,
                               "certificate.apinizer.pem_certificate")
        .status();
  });
}

absl::Status CheckApinizerName(const std::string& name,
                               absl::string_view field) {
  if (name.empty()) return Invalid(field, "is required");
  if (name.size() > 255) return Invalid(field, "is longer than 255 bytes");
  for (char c : name) {
    if (absl::ascii_iscntrl(c)) {
      return Invalid(field, "must not contain control characters");
    }
  }
  if (!IsValidUtf8(name)) return Invalid(field, "must be valid UTF-8");
  return absl::OkStatus();
}

absl::Status RejectLeegalityOnly(const v1::Certificate& cert) {
  if (cert.has_leegality()) {
    return Invalid("certificate.leegality",
                   "does not apply to an Apinizer backend; set "
                   "certificate.apinizer");
  }
  return absl::OkStatus();
}

absl::Status ValidateApinizerCreate(const v1::CreateCertificateRequest& r,
                                    absl::Time now, const FileChecks& checks) {
  if (r.certificate_id().empty())
    return Invalid("certificate_id", "is required");
  // It becomes the last segment of the name and of the vendor URL, so it
  // obeys the same rules as every name segment.
  if (auto s = CheckNameSegment(r.certificate_id(), "certificate_id");
      !s.ok()) {
    return s;
  }
  if (auto s = RejectLeegalityOnly(r.certificate()); !s.ok()) return s;
  if (!r.certificate().has_apinizer()) {
    return Invalid("certificate.apinizer",
                   "is required for an Apinizer backend");
  }
  const v1::ApinizerCertificate& cert = r.certificate().apinizer();
  if (auto s = CheckApinizerName(cert.alias(), "certificate.apinizer.alias");
      !s.ok()) {
    return s;
  }
  if (auto s = CheckEnvironments(cert); !s.ok()) return s;
  return CheckPemUpload(cert, now, checks);
}

absl::Status ValidateApinizerUpdate(const v1::UpdateCertificateRequest& r,
                                    absl::Time now, const FileChecks& checks) {
  static const std::set<std::string> kPaths = {
      "*", "apinizer.description", "apinizer.alias", "apinizer.environments",
      "apinizer.pem_certificate"};
  const auto& mask = r.update_mask();
  if (auto s = CheckMaskPaths(mask, kPaths, "an Apinizer"); !s.ok()) return s;
  if (auto s = RejectLeegalityOnly(r.certificate()); !s.ok()) return s;
  const v1::ApinizerCertificate& cert = r.certificate().apinizer();
  const bool wildcard = MaskCovers(mask, "*");
  // "*" replaces what the request carries; absent fields keep their value.
  if (MaskCovers(mask, "apinizer.alias") &&
      (!wildcard || !cert.alias().empty())) {
    if (auto s = CheckApinizerName(cert.alias(), "certificate.apinizer.alias");
        !s.ok()) {
      return s;
    }
  }
  if (MaskCovers(mask, "apinizer.environments") &&
      (!wildcard || !cert.environments().empty())) {
    if (auto s = CheckEnvironments(cert); !s.ok()) return s;
  }
  if (MaskCovers(mask, "apinizer.pem_certificate") &&
      (!wildcard || !cert.pem_certificate().empty())) {
    if (auto s = CheckPemUpload(cert, now, checks); !s.ok()) return s;
  }
  if (!v1::JwkUpdateAction_IsValid(r.jwk_update_action())) {
    return Invalid("jwk_update_action", "unknown value");
  }
  if (!v1::JwkUpdateScope_IsValid(r.jwk_update_scope())) {
    return Invalid("jwk_update_scope", "unknown value");
  }
  if (r.jwk_update_scope() != v1::JWK_UPDATE_SCOPE_UNSPECIFIED &&
      r.jwk_update_action() != v1::JWK_UPDATE_ACTION_UPDATE) {
    return Invalid("jwk_update_scope",
                   "is only meaningful with JWK_UPDATE_ACTION_UPDATE");
  }
  return absl::OkStatus();
}

absl::Status RejectApinizerOnly(const v1::UpdateCertificateRequest& r) {
  if (r.certificate().has_apinizer()) {
    return Invalid("certificate.apinizer",
                   "does not apply to a Leegality backend");
  }
  if (r.jwk_update_action() != v1::JWK_UPDATE_ACTION_UNSPECIFIED ||
      r.jwk_update_scope() != v1::JWK_UPDATE_SCOPE_UNSPECIFIED) {
    return Invalid("jwk_update_action", "applies to Apinizer backends only");
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

absl::StatusOr<Routed<CertificateName>> RouteCertificateName(
    const BackendRegistry& registry, absl::string_view name,
    absl::string_view field) {
  auto parsed = ParseCertificateName(name, field);
  if (!parsed.ok()) return parsed.status();
  auto connection =
      FindBackend(registry, parsed->backend, parsed->has_project, field);
  if (!connection.ok()) return connection.status();
  if ((*connection)->kind() == BackendKind::kLeegality &&
      !IsUuid(parsed->certificate)) {
    return NameError(field,
                     absl::StrCat("Leegality certificate ids are UUIDs; ",
                                  QuoteInput(parsed->certificate), " is not"));
  }
  return Routed<CertificateName>{*connection, *std::move(parsed)};
}

absl::StatusOr<Routed<ParentName>> RouteParent(const BackendRegistry& registry,
                                               absl::string_view parent,
                                               absl::string_view field) {
  auto parsed = ParseParentName(parent, field);
  if (!parsed.ok()) return parsed.status();
  auto connection =
      FindBackend(registry, parsed->backend, parsed->has_project, field);
  if (!connection.ok()) return connection.status();
  return Routed<ParentName>{*connection, *std::move(parsed)};
}

absl::Status ValidateCreate(BackendKind kind,
                            const v1::CreateCertificateRequest& request,
                            absl::Time now, const FileChecks& checks) {
  if (auto s = CheckRequestId(request.request_id()); !s.ok()) return s;
  if (!request.has_certificate()) return Invalid("certificate", "is required");
  switch (kind) {
    case BackendKind::kLeegality:
      return ValidateLeegalityCreate(request, now, checks);
    case BackendKind::kApinizer:
      return ValidateApinizerCreate(request, now, checks);
  }
  return absl::OkStatus();
}

absl::Status ValidateUpdate(BackendKind kind,
                            const v1::UpdateCertificateRequest& request,
                            absl::Time now, const FileChecks& checks) {
  switch (kind) {
    case BackendKind::kLeegality:
      if (auto s = RejectApinizerOnly(request); !s.ok()) return s;
      return ValidateLeegalityUpdate(request, now, checks);
    case BackendKind::kApinizer:
      return ValidateApinizerUpdate(request, now, checks);
  }
  return absl::OkStatus();
}

absl::Status ValidateDelete(BackendKind kind,
                            const v1::DeleteCertificateRequest& request) {
  if (kind == BackendKind::kLeegality &&
      request.jwk_delete_action() != v1::JWK_DELETE_ACTION_UNSPECIFIED) {
    return Invalid("jwk_delete_action", "applies to Apinizer backends only");
  }
  if (!v1::JwkDeleteAction_IsValid(request.jwk_delete_action())) {
    return Invalid("jwk_delete_action", "unknown value");
  }
  return absl::OkStatus();
}

}  // namespace certbridge
