// Apinizer API Ops bodies <-> certbridge types. Pure functions covering both
// response generations (apinizer.md §4, §7.1-7.3): {success, resultList},
// {status:"SUCCESS", resultList, resultCount}, the deployment envelope, and
// the error bodies {error, error_description} / {status:"FAILURE",
// resultMessage}.
#ifndef CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_JSON_H_
#define CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_JSON_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "server/mapping/http_status_mapping.h"

namespace certbridge {

/// The one certificate a Get returns (a one-element `resultList`). The
/// resource name is built from `backend`, `project` and the certificate's
/// name. Errors (INVALID_ARGUMENT) describe what is wrong with the body.
/// `base64_content`, when given, receives the first environment's
/// base64EncodedContent (certificate bytes are never put in the result).
absl::StatusOr<v1::Certificate> ParseApinizerCertificate(
    absl::string_view body, absl::string_view backend,
    absl::string_view project, std::string* base64_content = nullptr);

/// The deployment envelope of Create/Update/Delete. A missing
/// `deploymentResult` (e.g. a bare {"status":"SUCCESS"}) is NOT_APPLICABLE.
absl::StatusOr<v1::DeploymentResult> ParseApinizerDeployment(
    absl::string_view body);

/// Best effort: message = resultMessage ?? error_description; code = error
/// or status; bad_request_class read from the message, since Apinizer uses
/// 400 for not-found, duplicates and permissions alike.
BackendErrorBody ParseApinizerError(absl::string_view body);

/// What an Apinizer 400 means, from its message text.
ErrorClass ClassifyApinizerBadRequest(absl::string_view message);

/// A 200 whose body reports failure ({"status":"FAILURE"} or
/// {"success":false} without a deployment result): the error it carries.
std::optional<BackendErrorBody> ApinizerFailureIn200(absl::string_view body);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_JSON_H_
