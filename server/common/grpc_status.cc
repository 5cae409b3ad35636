#include "server/common/grpc_status.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/common/errors.h"
#include "server/common/quote.h"

namespace certbridge {
namespace {

// What a caller receives travels in trailers (grpc-message, percent-encoded,
// and grpc-status-details-bin, base64), and a client drops a call whose
// metadata passes its limit (8 KiB by default) -- and with it every other
// call on that connection in some clients. These bounds keep the worst case
// near 4 KiB whatever the inputs: 512 bytes of message (x3 when
// percent-encoded, plus its copy in the details), 128 per metadata value,
// 4 field violations of 256 bytes.
constexpr std::size_t kMaxMessageBytes = 512;
constexpr std::size_t kMaxMetadataValueBytes = 128;
constexpr int kMaxViolations = 4;
constexpr std::size_t kMaxViolationBytes = 256;

constexpr char kErrorInfoUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr char kRetryInfoUrl[] = "type.googleapis.com/google.rpc.RetryInfo";
constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";

// Re-serializes a public payload within the bounds above; internal
// payloads (anything else) never leave the process.
bool BoundedPayload(absl::string_view url, const absl::Cord& payload,
                    std::string* out) {
  const std::string bytes(payload);
  if (url == kErrorInfoUrl) {
    google::rpc::ErrorInfo info;
    if (!info.ParseFromString(bytes)) return false;
    for (auto& [key, value] : *info.mutable_metadata()) {
      value = BoundText(value, kMaxMetadataValueBytes);
    }
    return info.SerializeToString(out);
  }
  if (url == kBadRequestUrl) {
    google::rpc::BadRequest bad;
    if (!bad.ParseFromString(bytes)) return false;
    while (bad.field_violations_size() > kMaxViolations) {
      bad.mutable_field_violations()->RemoveLast();
    }
    for (auto& v : *bad.mutable_field_violations()) {
      v.set_field(BoundText(v.field(), kMaxViolationBytes));
      v.set_description(BoundText(v.description(), kMaxViolationBytes));
    }
    return bad.SerializeToString(out);
  }
  if (url == kRetryInfoUrl) {
    *out = bytes;
    return true;
  }
  return false;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  absl::Status with_info = status;
  // Guarantees the "exactly one ErrorInfo" contract for statuses raised
  // without one (timers, cancellation).
  EnsureErrorInfo(with_info);
  const std::string message = BoundText(status.message(), kMaxMessageBytes);
  google::rpc::Status proto;
  proto.set_code(static_cast<int>(status.code()));
  proto.set_message(message);
  with_info.ForEachPayload(
      [&proto](absl::string_view url, const absl::Cord& payload) {
        std::string bytes;
        if (!BoundedPayload(url, payload, &bytes)) return;
        auto* any = proto.add_details();
        any->set_type_url(std::string(url));
        any->set_value(std::move(bytes));
      });
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      proto.SerializeAsString());
}

std::optional<std::string> RetryPushbackMs(const absl::Status& status) {
  std::optional<absl::Duration> delay = GetRetryDelay(status);
  if (!delay) return std::nullopt;
  // Rounded up: coming back a fraction early would meet the same refusal.
  // A negative value would tell the client never to retry, which is not
  // what a RetryInfo says.
  const absl::Duration bounded =
      std::clamp(*delay, absl::ZeroDuration(), kMaxRetryPushback);
  return absl::StrCat(
      absl::ToInt64Milliseconds(absl::Ceil(bounded, absl::Milliseconds(1))));
}

}  // namespace certbridge
