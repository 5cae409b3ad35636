// The errors.md "Backend HTTP responses" table as one pure, method-aware
// function: (operation, HTTP status, parsed vendor error) ->
// absl::Status with its ErrorInfo. Stubs call it; nothing else decides what
// an HTTP status means.
#ifndef CERTBRIDGE_SERVER_MAPPING_HTTP_STATUS_MAPPING_H_
#define CERTBRIDGE_SERVER_MAPPING_HTTP_STATUS_MAPPING_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/backend_types.h"

namespace certbridge {

/// A canonical code and the ErrorInfo reason that goes with it.
struct ErrorClass {
  absl::StatusCode code;
  const char* reason;
};

/// What a vendor error body said, already parsed by the vendor's JSON code.
struct BackendErrorBody {
  std::string code;        // a vendor error code, e.g. bad_request
  std::string inner_code;  // a nested code, when the vendor nests them
  std::string message;     // untrusted text; shortened before use
  /// Set by vendors that answer many different errors with HTTP 400 and
  /// tell them apart only in the body: what this 400 means. Ignored for
  /// every other status (the status decides, never the body).
  std::optional<ErrorClass> bad_request_class;
};

struct HttpErrorInput {
  /// The vendor's kind, named in the message.
  std::string kind;
  Operation operation = Operation::kGet;
  std::string backend;  // configured instance name
  int http_status = 0;
  BackendErrorBody body;
  /// From Retry-After, when the response had a usable one.
  std::optional<absl::Duration> retry_after;
};

/// Maps a non-2xx response. Never returns OK.
absl::Status MapHttpError(const HttpErrorInput& input);

/// INTERNAL / BACKEND_MALFORMED_RESPONSE for a 2xx body we cannot use.
absl::Status MalformedResponseError(absl::string_view backend, int http_status,
                                    absl::string_view what);

/// Longest Retry-After taken from a backend.
inline constexpr absl::Duration kMaxRetryAfter = absl::Hours(24);

/// Retry-After as delay-seconds or HTTP-date (RFC 9110 §10.2.3), relative to
/// `now`, at most kMaxRetryAfter; nullopt when absent or unparsable.
/// Negative delays become zero.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_MAPPING_HTTP_STATUS_MAPPING_H_
