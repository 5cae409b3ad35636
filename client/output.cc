#include "client/output.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace certbridge::cli {
namespace {

// Server text may quote a vendor's message: keep it from driving the
// terminal.
std::string EscapeControl(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void StripSecrets(v1::Certificate& cert) {
  if (cert.has_leegality()) {
    cert.mutable_leegality()->clear_pkcs12_file();
    cert.mutable_leegality()->clear_passkey();
  }
  if (cert.has_apinizer()) cert.mutable_apinizer()->clear_pem_certificate();
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print the response as JSON: ", status.ToString()));
  }
  return json;
}

}  // namespace

absl::StatusOr<std::string> CertificateToJson(const v1::Certificate& cert) {
  v1::Certificate copy = cert;
  StripSecrets(copy);
  return ToJson(copy);
}

absl::StatusOr<std::string> DeleteResponseToJson(
    const v1::DeleteCertificateResponse& response) {
  return ToJson(response);
}

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    default:
      break;
  }
  return absl::StrCat("CODE_", static_cast<int>(code));
}

std::string FormatRpcError(const grpc::Status& status) {
  std::string out =
      absl::StrCat("ERROR: ", StatusCodeName(status.error_code()), ": ",
                   EscapeControl(status.error_message()), "\n");
  google::rpc::Status details;
  if (status.error_details().empty() ||
      !details.ParseFromString(status.error_details())) {
    return out;
  }
  // Collected first and printed in a fixed order: the server's payload order
  // is not meaningful (absl::Status payloads have no defined order).
  std::string reason_lines;
  std::string violation_lines;
  std::string retry_lines;
  for (const auto& any : details.details()) {
    if (google::rpc::ErrorInfo info;
        any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info)) {
      absl::StrAppend(&reason_lines, "reason: ", EscapeControl(info.reason()),
                      "\n");
      if (!info.metadata().empty()) {
        // Proto maps iterate in no particular order; sort for stable output.
        std::map<std::string, std::string> sorted(info.metadata().begin(),
                                                  info.metadata().end());
        std::vector<std::string> pairs;
        pairs.reserve(sorted.size());
        for (const auto& [k, v] : sorted) {
          pairs.push_back(
              absl::StrCat(EscapeControl(k), "=", EscapeControl(v)));
        }
        absl::StrAppend(&reason_lines, "metadata: ", absl::StrJoin(pairs, " "),
                        "\n");
      }
    } else if (google::rpc::BadRequest bad;
               any.Is<google::rpc::BadRequest>() && any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        absl::StrAppend(&violation_lines,
                        "field_violation: ", EscapeControl(v.field()), ": ",
                        EscapeControl(v.description()), "\n");
      }
    } else if (google::rpc::RetryInfo retry;
               any.Is<google::rpc::RetryInfo>() && any.UnpackTo(&retry)) {
      const absl::Duration delay =
          absl::Seconds(retry.retry_delay().seconds()) +
          absl::Nanoseconds(retry.retry_delay().nanos());
      absl::StrAppend(&retry_lines,
                      "retry_after: ", absl::FormatDuration(delay), "\n");
    }
  }
  absl::StrAppend(&out, reason_lines, violation_lines, retry_lines);
  return out;
}

std::optional<std::string> DeploymentWarning(const v1::DeploymentResult& r) {
  if (r.state() != v1::DeploymentResult::PARTIALLY_FAILED &&
      r.state() != v1::DeploymentResult::FAILED) {
    return std::nullopt;
  }
  std::vector<std::string> failed;
  for (const auto& env : r.environment_results()) {
    if (!env.success()) {
      failed.push_back(absl::StrCat(EscapeControl(env.environment()), " (",
                                    EscapeControl(env.message()), ")"));
    }
  }
  std::string line = absl::StrCat("WARNING: deployment ",
                                  v1::DeploymentResult::State_Name(r.state()));
  if (!failed.empty()) {
    absl::StrAppend(&line, " in: ", absl::StrJoin(failed, ", "));
  } else if (!r.message().empty()) {
    absl::StrAppend(&line, ": ", EscapeControl(r.message()));
  }
  absl::StrAppend(&line, "\n");
  return line;
}

}  // namespace certbridge::cli
