// Apinizer API Ops bodies <-> certbridge types. Pure functions covering both
// response generations (apinizer.md §4, §7.1-7.3): {success, resultList},
// {status:"SUCCESS", resultList, resultCount}, the deployment envelope, and
// the error bodies {error, error_description} / {status:"FAILURE",
// resultMessage}.
#ifndef CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_JSON_H_
#define CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_JSON_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "nlohmann/json.hpp"
#include "server/mapping/http_status_mapping.h"

namespace certbridge {

/// A response body parsed once, for every reader below (the FAILURE-in-200
/// check and the certificate or deployment parse each read the same body).
/// `doc` is discarded when the body is not JSON.
struct ApinizerBody {
  bool empty = true;
  nlohmann::json doc;
};
ApinizerBody ParseApinizerBody(absl::string_view body);

/// The one certificate a Get returns (a one-element `resultList`). The
/// resource name is built from `backend`, `project` and the certificate's
/// name. Errors (INVALID_ARGUMENT) describe what is wrong with the body.
/// `base64_content`, when given, receives the first environment's
/// base64EncodedContent (certificate bytes are never put in the result).
absl::StatusOr<v1::Certificate> ParseApinizerCertificate(
    const ApinizerBody& body, absl::string_view backend,
    absl::string_view project, std::string* base64_content = nullptr);
absl::StatusOr<v1::Certificate> ParseApinizerCertificate(
    absl::string_view body, absl::string_view backend,
    absl::string_view project, std::string* base64_content = nullptr);

/// Every certificate of a list answer (A1), in the body's order, named
/// under `project`. INVALID_ARGUMENT describes a malformed body;
/// OUT_OF_RANGE when it holds more than `max_items`, checked before any
/// entry is converted. Certificate bytes are not kept.
absl::StatusOr<std::vector<v1::Certificate>> ParseApinizerCertificateList(
    const ApinizerBody& body, absl::string_view backend,
    absl::string_view project, std::size_t max_items);

/// The deployment envelope of Create/Update/Delete. A missing
/// `deploymentResult` (e.g. a bare {"status":"SUCCESS"}) is NOT_APPLICABLE.
absl::StatusOr<v1::DeploymentResult> ParseApinizerDeployment(
    const ApinizerBody& body);
absl::StatusOr<v1::DeploymentResult> ParseApinizerDeployment(
    absl::string_view body);

/// Best effort: message = resultMessage ?? error_description; code = error
/// or status; bad_request_class read from the message, since Apinizer uses
/// 400 for not-found, duplicates and permissions alike.
BackendErrorBody ParseApinizerError(absl::string_view body);
BackendErrorBody ParseApinizerError(const ApinizerBody& body);

/// What an Apinizer 400 means, from its message text.
ErrorClass ClassifyApinizerBadRequest(absl::string_view message);

/// A 200 whose body reports failure ({"status":"FAILURE"} or
/// {"success":false} without a deployment result): the error it carries.
std::optional<BackendErrorBody> ApinizerFailureIn200(const ApinizerBody& body);
std::optional<BackendErrorBody> ApinizerFailureIn200(absl::string_view body);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_APINIZER_APINIZER_JSON_H_
