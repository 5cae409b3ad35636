// The errors.md "Backend HTTP responses" table as one pure, method-aware
// function: (backend kind, operation, HTTP status, parsed vendor error) ->
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

/// What a vendor error body said, already parsed by the vendor's JSON code.
struct BackendErrorBody {
  std::string code;        // e.g. LE_ERR_SS_404 (Leegality), bad_request
  std::string inner_code;  // e.g. LE_ERR_SS_001
  std::string message;     // untrusted text; shortened before use
};

struct HttpErrorInput {
  BackendKind kind = BackendKind::kLeegality;
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
