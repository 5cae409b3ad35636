// What certctl prints: results as JSON (stdout) and RPC errors as readable
// text (stderr). Pure: returns strings, writes nothing.
//
// JSON uses the proto field names (`department_id`, not `departmentId`) so
// the keys match certctl's flags and update-mask paths; enums print as names,
// fields at their default value are omitted. Input-only secrets
// (leegality.pkcs12_file, leegality.passkey, apinizer.pem_certificate) are
// cleared before printing, even if a server sent them.
#ifndef CERTBRIDGE_CLIENT_OUTPUT_H_
#define CERTBRIDGE_CLIENT_OUTPUT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "grpcpp/support/status.h"

namespace certbridge::cli {

absl::StatusOr<std::string> CertificateToJson(const v1::Certificate& cert);
absl::StatusOr<std::string> DeleteResponseToJson(
    const v1::DeleteCertificateResponse& response);

/// Multi-line error report, each line ending in "\n":
///   ERROR: <STATUS_NAME>: <message>
///   reason: <ErrorInfo.reason>            (when the details carry one)
///   metadata: k1=v1 k2=v2                 (sorted by key)
///   field_violation: <field>: <description>   (one line each)
///   retry_after: <duration>
/// Details come from error_details() parsed as google.rpc.Status; control
/// characters in server-supplied text are escaped as \xNN.
std::string FormatRpcError(const grpc::Status& status);

/// "OK", "INVALID_ARGUMENT", ...
std::string StatusCodeName(grpc::StatusCode code);

/// A warning line when an Apinizer (un)deployment did not fully succeed:
/// the RPC is OK but some environment failed. nullopt otherwise.
std::optional<std::string> DeploymentWarning(const v1::DeploymentResult& r);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_OUTPUT_H_
