// Local checks before any backend I/O (errors.md "Local validation"): the
// resource name routes to a configured backend whose vendor accepts its
// shape, and the request carries what that vendor needs, with files that
// actually open. Vendor rules live in the vendors (vendor.h); this is what
// every request goes through whatever the vendor.
#ifndef CERTBRIDGE_SERVER_SERVICE_REQUEST_VALIDATION_H_
#define CERTBRIDGE_SERVER_SERVICE_REQUEST_VALIDATION_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "server/backends/backend_registry.h"
#include "server/backends/request_checks.h"
#include "server/backends/vendor.h"
#include "server/common/resource_name.h"

namespace certbridge {

/// A resource name parsed and checked against its backend instance.
template <typename Name>
struct Routed {
  BackendConnection* backend = nullptr;
  Name name;
};

/// The backend a certificate name belongs to, with the parsed name. This is
/// the one name check of Get, Update and Delete (Create checks its parent
/// here and its certificate_id with the same segment rules):
/// INVALID_NAME when the name is malformed (resource_name.h), the backend
/// is unknown, the name's shape does not match the backend's vendor, or
/// the vendor rejects the certificate id.
absl::StatusOr<Routed<CertificateName>> RouteCertificateName(
    const BackendRegistry& registry, absl::string_view name,
    absl::string_view field);

/// Same for a Create's parent.
absl::StatusOr<Routed<ParentName>> RouteParent(const BackendRegistry& registry,
                                               absl::string_view parent,
                                               absl::string_view field);

/// The checks common to every vendor, then the vendor's own.
absl::Status ValidateCreate(const Vendor& vendor,
                            const v1::CreateCertificateRequest& request,
                            absl::Time now, const FileChecks& checks = {});
absl::Status ValidateUpdate(const Vendor& vendor,
                            const v1::UpdateCertificateRequest& request,
                            absl::Time now, const FileChecks& checks = {});
absl::Status ValidateDelete(const Vendor& vendor,
                            const v1::DeleteCertificateRequest& request);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_SERVICE_REQUEST_VALIDATION_H_
