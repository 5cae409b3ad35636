// Local checks before any backend I/O (errors.md "Local validation"): the
// resource name routes to a configured backend of the right kind, and the
// request carries what that kind needs, with files that actually open.
#ifndef CERTBRIDGE_SERVER_SERVICE_REQUEST_VALIDATION_H_
#define CERTBRIDGE_SERVER_SERVICE_REQUEST_VALIDATION_H_

#include <cstddef>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "server/backends/backend_registry.h"
#include "server/common/resource_name.h"
#include "server/service/certificate_checks.h"

namespace certbridge {

/// Both vendors document a 5 MB upload limit; we read it as 5 MiB.
inline constexpr std::size_t kMaxCertificateFileBytes =
    std::size_t{5} * 1024 * 1024;

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
/// is unknown, the name's shape does not match the backend's kind, or a
/// Leegality id is not a UUID.
absl::StatusOr<Routed<CertificateName>> RouteCertificateName(
    const BackendRegistry& registry, absl::string_view name,
    absl::string_view field);

/// Same for a Create's parent.
absl::StatusOr<Routed<ParentName>> RouteParent(const BackendRegistry& registry,
                                               absl::string_view parent,
                                               absl::string_view field);

/// A check that opens an uploaded file (PKCS#12 or PEM with OpenSSL):
/// CPU-bound, so the service runs it on the check pool.
using FileCheck = absl::AnyInvocable<absl::Status() &&>;

/// How validation treats the file checks it finds.
struct FileChecks {
  /// Null: run them at once. Else the one a request needs (if any) is
  /// stored here, referring to the request, which must outlive it.
  FileCheck* deferred = nullptr;
  Pkcs12Limits pkcs12;
};

/// Kind-specific checks of each request, after routing.
absl::Status ValidateCreate(BackendKind kind,
                            const v1::CreateCertificateRequest& request,
                            absl::Time now, const FileChecks& checks = {});
absl::Status ValidateUpdate(BackendKind kind,
                            const v1::UpdateCertificateRequest& request,
                            absl::Time now, const FileChecks& checks = {});
absl::Status ValidateDelete(BackendKind kind,
                            const v1::DeleteCertificateRequest& request);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_SERVICE_REQUEST_VALIDATION_H_
