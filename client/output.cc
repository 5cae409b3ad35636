#include "client/output.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/library/rpc_status.h"
#include "client/vendors/cli_vendor_registry.h"
#include "google/protobuf/util/json_util.h"
#include "server/common/errors.h"

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
  for (const auto& vendor : BuiltinCliVendors().vendors()) {
    vendor->Redact(copy);
  }
  return ToJson(copy);
}

absl::StatusOr<std::string> ListResponseToJson(
    const v1::ListCertificatesResponse& response) {
  v1::ListCertificatesResponse copy = response;
  for (v1::Certificate& cert : *copy.mutable_certificates()) {
    for (const auto& vendor : BuiltinCliVendors().vendors()) {
      vendor->Redact(cert);
    }
  }
  return ToJson(copy);
}

std::string FormatTimestamp(const google::protobuf::Timestamp& t) {
  const absl::Time time =
      absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  return absl::FormatTime(
      t.nanos() == 0 ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%M:%E*SZ", time,
      absl::UTCTimeZone());
}

std::string ListResponseToTable(const v1::ListCertificatesResponse& response,
                                const CliVendor& vendor) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"NAME"};
  for (std::string& column : vendor.ListColumns()) {
    header.push_back(std::move(column));
  }
  rows.push_back(std::move(header));
  for (const v1::Certificate& cert : response.certificates()) {
    std::vector<std::string> row = {EscapeControl(cert.name())};
    for (const std::string& cell : vendor.ListRow(cert)) {
      row.push_back(EscapeControl(cell));
    }
    row.resize(rows.front().size());
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) {
        line.append(widths[i] - row[i].size() + 2, ' ');
      }
    }
    // No trailing blanks from empty last cells.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  if (!response.next_page_token().empty()) {
    absl::StrAppend(&out, "(more: --page_token=", response.next_page_token(),
                    " or --all)\n");
  }
  return out;
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

std::string FormatRpcError(const absl::Status& status) {
  std::string out = absl::StrCat(
      "ERROR: ",
      StatusCodeName(static_cast<grpc::StatusCode>(status.raw_code())), ": ",
      EscapeControl(status.message()), "\n");
  // Printed in a fixed order: the server's detail order is not meaningful
  // (absl::Status payloads have no defined order).
  if (std::optional<ErrorInfo> info = GetErrorInfo(status)) {
    absl::StrAppend(&out, "reason: ", EscapeControl(info->reason), "\n");
    if (!info->metadata.empty()) {
      // Sorted by key (a std::map) for stable output.
      std::vector<std::string> pairs;
      pairs.reserve(info->metadata.size());
      for (const auto& [k, v] : info->metadata) {
        pairs.push_back(absl::StrCat(EscapeControl(k), "=", EscapeControl(v)));
      }
      absl::StrAppend(&out, "metadata: ", absl::StrJoin(pairs, " "), "\n");
    }
  }
  for (const FieldViolation& v : GetFieldViolations(status)) {
    absl::StrAppend(&out, "field_violation: ", EscapeControl(v.field), ": ",
                    EscapeControl(v.description), "\n");
  }
  if (std::optional<absl::Duration> delay = GetRetryDelay(status)) {
    absl::StrAppend(&out, "retry_after: ", absl::FormatDuration(*delay), "\n");
  }
  return out;
}

std::string FormatRpcError(const grpc::Status& status) {
  return FormatRpcError(FromGrpcStatus(status));
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
