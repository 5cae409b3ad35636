// What certctl prints: results as JSON (stdout) and RPC errors as readable
// text (stderr). Pure: returns strings, writes nothing.
//
// JSON uses the proto field names (`department_id`, not `departmentId`) so
// the keys match certctl's flags and update-mask paths; enums print as names,
// fields at their default value are omitted. Input-only secrets (uploaded
// files, passkeys) are cleared before printing by every vendor
// (CliVendor::Redact), even if a server sent them.
#ifndef CERTBRIDGE_CLIENT_OUTPUT_H_
#define CERTBRIDGE_CLIENT_OUTPUT_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/support/status.h"

namespace certbridge::cli {

class CliVendor;

absl::StatusOr<std::string> CertificateToJson(const v1::Certificate& cert);
absl::StatusOr<std::string> DeleteResponseToJson(
    const v1::DeleteCertificateResponse& response);

/// A list response as JSON (the certificates redacted as above).
absl::StatusOr<std::string> ListResponseToJson(
    const v1::ListCertificatesResponse& response);

/// `certctl list`'s table: a header row, then one row per certificate,
/// NAME first and `vendor`'s ListColumns after it, columns aligned; control
/// characters in cells escaped as \xNN. A last line says how to get the next
/// page when there is one.
std::string ListResponseToTable(const v1::ListCertificatesResponse& response,
                                const CliVendor& vendor);

/// "2027-03-31T23:59:59Z" (fractions when the timestamp has them).
std::string FormatTimestamp(const google::protobuf::Timestamp& t);

/// Multi-line error report, each line ending in "\n":
///   ERROR: <STATUS_NAME>: <message>
///   reason: <ErrorInfo.reason>            (when the details carry one)
///   metadata: k1=v1 k2=v2                 (sorted by key)
///   field_violation: <field>: <description>   (one line each)
///   retry_after: <duration>
/// Details are the status's payloads as the client library decodes them
/// (client/library/rpc_status.h); control characters in server-supplied
/// text are escaped as \xNN.
std::string FormatRpcError(const absl::Status& status);
/// The same for a grpc::Status, its details the google.rpc.Status in
/// error_details().
std::string FormatRpcError(const grpc::Status& status);

/// "OK", "INVALID_ARGUMENT", ...
std::string StatusCodeName(grpc::StatusCode code);

/// A warning line when an (un)deployment to a vendor's environments did not
/// fully succeed: the RPC is OK but some environment failed. nullopt
/// otherwise.
std::optional<std::string> DeploymentWarning(const v1::DeploymentResult& r);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_OUTPUT_H_
