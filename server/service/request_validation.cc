#include "server/service/request_validation.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace certbridge {
namespace {

absl::StatusOr<BackendConnection*> FindBackend(const BackendRegistry& registry,
                                               const std::string& backend,
                                               bool has_project,
                                               absl::string_view field) {
  BackendConnection* connection = registry.Find(backend);
  if (connection == nullptr) {
    return InvalidName(field, absl::StrCat("no backend instance named \"",
                                           backend, "\" is configured"));
  }
  const Vendor& vendor = connection->vendor();
  const bool wants_project = vendor.names_have_project();
  if (has_project != wants_project) {
    return InvalidName(
        field,
        absl::StrCat("backend \"", backend, "\" is of kind ", vendor.kind(),
                     wants_project ? ": names are backends/{backend}/projects/"
                                     "{project}/certificates/{name}"
                                   : ": names are backends/{backend}/"
                                     "certificates/{id}"));
  }
  return connection;
}

absl::Status CheckRequestId(const std::string& request_id) {
  if (!request_id.empty() && !IsUuid(request_id)) {
    return InvalidField("request_id", "must be a UUID (AIP-155)");
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
  if (auto s = (*connection)
                   ->vendor()
                   .CheckCertificateId(parsed->certificate, field);
      !s.ok()) {
    return s;
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

absl::Status ValidateCreate(const Vendor& vendor,
                            const v1::CreateCertificateRequest& request,
                            absl::Time now, const FileChecks& checks) {
  if (auto s = CheckRequestId(request.request_id()); !s.ok()) return s;
  if (!request.has_certificate()) {
    return InvalidField("certificate", "is required");
  }
  return vendor.ValidateCreate(request, now, checks);
}

absl::Status ValidateUpdate(const Vendor& vendor,
                            const v1::UpdateCertificateRequest& request,
                            absl::Time now, const FileChecks& checks) {
  return vendor.ValidateUpdate(request, now, checks);
}

absl::Status ValidateDelete(const Vendor& vendor,
                            const v1::DeleteCertificateRequest& request) {
  return vendor.ValidateDelete(request);
}

}  // namespace certbridge
