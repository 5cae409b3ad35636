#include "server/idempotency/outcome_codec.h"

#include <string>

#include "absl/strings/cord.h"
#include "google/rpc/status.pb.h"

namespace certbridge {
namespace {

// One byte says which kind follows, so an answer and an error can never be
// read as each other.
constexpr char kCertificate = 'C';
constexpr char kError = 'E';

absl::Status Corrupt() {
  return absl::InternalError(
      "the idempotency store holds an unreadable outcome for this request_id");
}

}  // namespace

std::string EncodeOutcome(const absl::StatusOr<v1::Certificate>& outcome) {
  std::string out;
  if (outcome.ok()) {
    out.push_back(kCertificate);
    outcome->AppendToString(&out);
    return out;
  }
  google::rpc::Status status;
  status.set_code(static_cast<int>(outcome.status().code()));
  status.set_message(std::string(outcome.status().message()));
  outcome.status().ForEachPayload(
      [&status](absl::string_view type_url, const absl::Cord& payload) {
        auto* detail = status.add_details();
        detail->set_type_url(std::string(type_url));
        detail->set_value(std::string(payload));
      });
  out.push_back(kError);
  status.AppendToString(&out);
  return out;
}

absl::StatusOr<absl::StatusOr<v1::Certificate>> DecodeOutcome(
    absl::string_view bytes) {
  if (bytes.empty()) return Corrupt();
  const absl::string_view body = bytes.substr(1);
  if (bytes[0] == kCertificate) {
    v1::Certificate certificate;
    if (!certificate.ParseFromArray(body.data(),
                                    static_cast<int>(body.size()))) {
      return Corrupt();
    }
    return absl::StatusOr<v1::Certificate>(std::move(certificate));
  }
  if (bytes[0] != kError) return Corrupt();
  google::rpc::Status status;
  if (!status.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
      status.code() <= 0 || status.code() > 16) {
    return Corrupt();  // OK (0) is not an error outcome
  }
  absl::Status error(static_cast<absl::StatusCode>(status.code()),
                     status.message());
  for (const auto& detail : status.details()) {
    error.SetPayload(detail.type_url(), absl::Cord(detail.value()));
  }
  return absl::StatusOr<v1::Certificate>(std::move(error));
}

}  // namespace certbridge
