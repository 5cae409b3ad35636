// Payloads are stored as serialized google.rpc messages under their Any type
// URLs, so ToGrpcStatus can copy them into google.rpc.Status.details as is.
#include "server/common/errors.h"

#include <algorithm>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/common/redact.h"

namespace certbridge {
namespace {

constexpr char kErrorInfoUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr char kRetryInfoUrl[] = "type.googleapis.com/google.rpc.RetryInfo";
constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";

template <typename Proto>
std::optional<Proto> ReadPayload(const absl::Status& status,
                                 absl::string_view url) {
  auto payload = status.GetPayload(url);
  if (!payload) return std::nullopt;
  Proto proto;
  if (!proto.ParseFromString(std::string(*payload))) return std::nullopt;
  return proto;
}

template <typename Proto>
void WritePayload(absl::Status& status, absl::string_view url,
                  const Proto& proto) {
  status.SetPayload(url, absl::Cord(proto.SerializeAsString()));
}

google::rpc::ErrorInfo ToProto(absl::string_view reason,
                               const std::map<std::string, std::string>& md) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  for (const auto& [k, v] : md) (*info.mutable_metadata())[k] = v;
  return info;
}

}  // namespace

std::string DefaultReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kDeadlineExceeded:
      return reason::kDeadlineExceeded;
    case absl::StatusCode::kCancelled:
      return reason::kCancelled;
    case absl::StatusCode::kInvalidArgument:
      return reason::kInvalidArgument;
    case absl::StatusCode::kUnimplemented:
      return reason::kUnimplemented;
    default:
      return reason::kInternal;
  }
}

absl::Status MakeError(absl::StatusCode code, absl::string_view message,
                       absl::string_view reason,
                       const std::map<std::string, std::string>& metadata) {
  absl::Status status(code, message);
  if (status.ok()) return status;
  WritePayload(status, kErrorInfoUrl, ToProto(reason, metadata));
  return status;
}

absl::Status MakeValidationError(absl::string_view reason,
                                 absl::string_view field,
                                 absl::string_view description) {
  absl::Status status =
      MakeError(absl::StatusCode::kInvalidArgument,
                absl::StrCat(field, ": ", description), reason);
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(description));
  WritePayload(status, kBadRequestUrl, bad_request);
  return status;
}

std::optional<ErrorInfo> GetErrorInfo(const absl::Status& status) {
  auto proto = ReadPayload<google::rpc::ErrorInfo>(status, kErrorInfoUrl);
  if (!proto) return std::nullopt;
  ErrorInfo info{proto->reason(), proto->domain(), {}};
  for (const auto& [k, v] : proto->metadata()) info.metadata[k] = v;
  return info;
}

std::optional<ErrorInfo> GetErrorInfoFromDetails(absl::string_view details) {
  google::rpc::Status proto;
  if (!proto.ParseFromArray(details.data(), static_cast<int>(details.size()))) {
    return std::nullopt;
  }
  for (const auto& any : proto.details()) {
    google::rpc::ErrorInfo info;
    if (any.type_url() == kErrorInfoUrl && info.ParseFromString(any.value())) {
      ErrorInfo out{info.reason(), info.domain(), {}};
      for (const auto& [k, v] : info.metadata()) out.metadata[k] = v;
      return out;
    }
  }
  return std::nullopt;
}

void EnsureErrorInfo(absl::Status& status) {
  if (status.ok() || status.GetPayload(kErrorInfoUrl)) return;
  WritePayload(status, kErrorInfoUrl,
               ToProto(DefaultReason(status.code()), {}));
}

void SetErrorMetadata(absl::Status& status, absl::string_view key,
                      absl::string_view value) {
  if (status.ok()) return;
  auto proto = ReadPayload<google::rpc::ErrorInfo>(status, kErrorInfoUrl);
  if (!proto) proto = ToProto(DefaultReason(status.code()), {});
  (*proto->mutable_metadata())[std::string(key)] = std::string(value);
  WritePayload(status, kErrorInfoUrl, *proto);
}

void SetRetryDelay(absl::Status& status, absl::Duration delay) {
  if (status.ok()) return;
  google::rpc::RetryInfo info;
  // google.protobuf.Duration holds at most 10,000 years; nobody should be
  // told to wait more than a day anyway.
  delay = std::clamp(delay, absl::ZeroDuration(), absl::Hours(24));
  const int64_t seconds = absl::ToInt64Seconds(delay);
  info.mutable_retry_delay()->set_seconds(seconds);
  info.mutable_retry_delay()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(delay - absl::Seconds(seconds))));
  WritePayload(status, kRetryInfoUrl, info);
}

std::optional<absl::Duration> GetRetryDelay(const absl::Status& status) {
  auto proto = ReadPayload<google::rpc::RetryInfo>(status, kRetryInfoUrl);
  if (!proto) return std::nullopt;
  return absl::Seconds(proto->retry_delay().seconds()) +
         absl::Nanoseconds(proto->retry_delay().nanos());
}

absl::Status RedactStatus(const absl::Status& status,
                          const std::vector<std::string>& secrets) {
  if (status.ok()) return status;
  absl::Status out(status.code(), Redact(status.message(), secrets));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  if (auto info = ReadPayload<google::rpc::ErrorInfo>(out, kErrorInfoUrl)) {
    for (auto& [key, value] : *info->mutable_metadata()) {
      value = Redact(value, secrets);
    }
    WritePayload(out, kErrorInfoUrl, *info);
  }
  if (auto bad = ReadPayload<google::rpc::BadRequest>(out, kBadRequestUrl)) {
    for (auto& v : *bad->mutable_field_violations()) {
      v.set_description(Redact(v.description(), secrets));
    }
    WritePayload(out, kBadRequestUrl, *bad);
  }
  return out;
}

std::vector<FieldViolation> GetFieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto proto = ReadPayload<google::rpc::BadRequest>(status, kBadRequestUrl);
  if (!proto) return out;
  for (const auto& v : proto->field_violations()) {
    out.push_back({v.field(), v.description()});
  }
  return out;
}

}  // namespace certbridge
