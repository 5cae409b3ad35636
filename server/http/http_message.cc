#include "server/http/http_message.h"

namespace certbridge {

std::optional<std::string> HttpResponse::Header(
    absl::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

absl::string_view TransportErrorKindName(TransportErrorKind kind) {
  switch (kind) {
    case TransportErrorKind::kDnsFailure:
      return "dns";
    case TransportErrorKind::kConnectFailed:
      return "connect";
    case TransportErrorKind::kConnectTimeout:
      return "connect_timeout";
    case TransportErrorKind::kTlsHandshake:
      return "tls_handshake";
    case TransportErrorKind::kTlsVerification:
      return "tls_verification";
    case TransportErrorKind::kTimeout:
      return "timeout";
    case TransportErrorKind::kConnectionReset:
      return "reset";
    case TransportErrorKind::kCancelled:
      return "cancelled";
    case TransportErrorKind::kResponseTooLarge:
      return "response_too_large";
    case TransportErrorKind::kOther:
      return "other";
  }
  return "other";
}

}  // namespace certbridge
