#include "client/library/rpc_status.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"

namespace certbridge {
namespace {

// errors.cc reads payloads under these URLs only; an Any may carry another
// prefix (the part before the last '/') and still name the same message.
std::string CanonicalTypeUrl(absl::string_view type_url) {
  const std::size_t slash = type_url.rfind('/');
  const absl::string_view name =
      slash == absl::string_view::npos ? type_url : type_url.substr(slash + 1);
  return absl::StrCat("type.googleapis.com/", name);
}

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // grpc::StatusCode and absl::StatusCode share the canonical numbering (a
  // code outside it reads back as UNKNOWN, never as OK).
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  if (status.error_details().empty()) return out;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return out;
  for (const auto& any : details.details()) {
    if (any.type_url().empty()) continue;
    out.SetPayload(CanonicalTypeUrl(any.type_url()), absl::Cord(any.value()));
  }
  return out;
}

ErrorDetails GetErrorDetails(const absl::Status& status) {
  ErrorDetails details;
  if (status.ok()) return details;
  if (auto info = GetErrorInfo(status)) {
    details.reason = std::move(info->reason);
    details.domain = std::move(info->domain);
    details.metadata = std::move(info->metadata);
  }
  details.retry_delay = GetRetryDelay(status);
  details.field_violations = GetFieldViolations(status);
  return details;
}

}  // namespace certbridge
