// Value types for one HTTP exchange. No libcurl types: stubs and tests build
// and inspect these without sockets. HTTP status codes are data here; only
// TransportError describes a failure to exchange at all.
#ifndef CERTBRIDGE_SERVER_HTTP_HTTP_MESSAGE_H_
#define CERTBRIDGE_SERVER_HTTP_HTTP_MESSAGE_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certbridge {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string url;
  HttpHeaders headers;
  /// Shared and immutable: a retry or a resend after a token refresh reuses
  /// the same bytes instead of copying an upload of up to 5 MiB again.
  std::shared_ptr<const std::string> body;
  /// Bounds the whole exchange (connect + send + receive).
  absl::Duration timeout = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(5);
  /// PEM CA bundle for HTTPS, used instead of the system store; empty =
  /// the system store.
  std::string ca_file;

  void SetBody(std::string bytes) {
    body = std::make_shared<const std::string>(std::move(bytes));
  }
  absl::string_view body_view() const {
    return body ? absl::string_view(*body) : absl::string_view();
  }
};

struct HttpResponse {
  int status_code = 0;
  HttpHeaders headers;  // names lower-cased
  std::string body;

  /// First value of a header, by lower-case name.
  std::optional<std::string> Header(absl::string_view lower_name) const;
};

enum class TransportErrorKind {
  kDnsFailure,       // name did not resolve: the request never left
  kConnectFailed,    // refused / unreachable: the request never left
  kConnectTimeout,   // no connection within the timeout: never left
  kTlsHandshake,     // TLS failed before any request byte was sent
  kTlsVerification,  // the peer's certificate was rejected
  kTimeout,          // timed out after the request may have been sent
  kConnectionReset,  // reset / empty reply after sending
  kCancelled,        // HttpTransport::Cancel
  kResponseTooLarge,
  kOther,
};

struct TransportError {
  TransportErrorKind kind = TransportErrorKind::kOther;
  /// False only when the request provably never reached the backend; the
  /// retry rules for non-idempotent calls depend on it.
  bool request_may_have_been_sent = true;
  /// Diagnostic text (libcurl's); never contains request data.
  std::string message;
};

using HttpResult = std::variant<HttpResponse, TransportError>;

absl::string_view TransportErrorKindName(TransportErrorKind kind);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_HTTP_HTTP_MESSAGE_H_
