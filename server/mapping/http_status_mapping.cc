#include "server/mapping/http_status_mapping.h"

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/failure.h"
#include "server/common/quote.h"
#include "server/common/time_format.h"

namespace certbridge {
namespace {

// Vendor messages are untrusted and unbounded; keep the developer-facing
// status message short.
constexpr size_t kMaxBackendMessage = 300;

std::string ShortMessage(absl::string_view text) {
  return BoundText(absl::StripAsciiWhitespace(text), kMaxBackendMessage);
}

// Vendor codes are identifiers (LE_ERR_SS_404, bad_request); anything else
// in that field is not passed on.
bool IsCode(absl::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  for (char c : code) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '-' && c != '.' && c != ':') {
      return false;
    }
  }
  return true;
}

ErrorClass RowFor(const HttpErrorInput& in) {
  const int s = in.http_status;
  switch (s) {
    case 400:
      if (in.body.bad_request_class) return *in.body.bad_request_class;
      // Unless the vendor reads its 400s (above), the HTTP status decides,
      // never the body's code: a vendor page printing a not-found code on a
      // 400 example does not make it a NOT_FOUND.
      return {absl::StatusCode::kInvalidArgument,
              reason::kBackendRejectedRequest};
    case 401:
      // Our own service credentials failed, not the caller's: INTERNAL, so a
      // caller does not think its own identity is at fault.
      return {absl::StatusCode::kInternal, reason::kBackendAuthFailed};
    case 403:
      return {absl::StatusCode::kPermissionDenied,
              reason::kBackendPermissionDenied};
    case 404:
      return {absl::StatusCode::kNotFound, reason::kCertificateNotFound};
    case 409:
      // On Create a conflict is a duplicate; on Update/Delete it is a lost
      // race the caller resolves by re-reading (ABORTED, AIP-193).
      if (in.operation == Operation::kCreate) {
        return {absl::StatusCode::kAlreadyExists,
                reason::kCertificateAlreadyExists};
      }
      return {absl::StatusCode::kAborted, reason::kConcurrentModification};
    case 413:
      return {absl::StatusCode::kInvalidArgument, reason::kFileTooLarge};
    case 429:
      // RESOURCE_EXHAUSTED (not UNAVAILABLE): the quota is shared, so callers
      // must not blind-retry; RetryInfo says when to come back.
      return {absl::StatusCode::kResourceExhausted,
              reason::kBackendRateLimited};
    case 500:
      return {absl::StatusCode::kInternal, reason::kBackendInternalError};
    case 502:
    case 503:
      return {absl::StatusCode::kUnavailable, reason::kBackendUnavailable};
    case 504:
      return {absl::StatusCode::kUnavailable, reason::kBackendTimeout};
    default:
      break;
  }
  if (s >= 400 && s < 500) {
    return {absl::StatusCode::kInvalidArgument, reason::kBackendError};
  }
  // 5xx we do not know, and 1xx/3xx (redirects are not followed: a REST API
  // redirecting a certificate call is a configuration problem).
  return {absl::StatusCode::kInternal, reason::kBackendError};
}

}  // namespace

absl::Status MapHttpError(const HttpErrorInput& in) {
  const ErrorClass row = RowFor(in);
  std::map<std::string, std::string> md = {
      {metadata::kBackend, in.backend},
      {metadata::kHttpStatus, absl::StrCat(in.http_status)}};
  if (IsCode(in.body.code)) {
    md[metadata::kBackendCode] =
        IsCode(in.body.inner_code)
            ? absl::StrCat(in.body.code, "/", in.body.inner_code)
            : in.body.code;
  }
  std::string message = absl::StrCat("backend ", in.backend, " (", in.kind,
                                     ") returned HTTP ", in.http_status);
  if (!in.body.message.empty()) {
    absl::StrAppend(&message, ": ", ShortMessage(in.body.message));
  }
  absl::Status status = MakeError(row.code, message, row.reason, md);
  FailureFacts facts;
  facts.http_status = in.http_status;
  SetFailureFacts(status, facts);
  const bool retry_info_applies =
      in.http_status == 429 || in.http_status == 502 || in.http_status == 503;
  if (retry_info_applies && in.retry_after) {
    SetRetryDelay(status, *in.retry_after);
  }
  return status;
}

absl::Status MalformedResponseError(absl::string_view backend, int http_status,
                                    absl::string_view what) {
  absl::Status status =
      MakeError(absl::StatusCode::kInternal,
                absl::StrCat("backend ", backend, " returned HTTP ",
                             http_status, " with an unusable body: ", what),
                reason::kBackendMalformedResponse,
                {{metadata::kBackend, std::string(backend)},
                 {metadata::kHttpStatus, absl::StrCat(http_status)}});
  // The backend answered (and, for a write, acted): nothing to retry.
  FailureFacts facts;
  facts.http_status = http_status;
  SetFailureFacts(status, facts);
  return status;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  std::optional<absl::Duration> delay;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    delay = absl::Seconds(seconds);
  } else if (auto when = ParseHttpDate(value)) {
    delay = std::max(*when - now, absl::ZeroDuration());
  }
  // The value goes on to callers in a RetryInfo: a backend asking for
  // years (or forever) gets a day.
  if (delay) delay = std::min(*delay, kMaxRetryAfter);
  return delay;
}

}  // namespace certbridge
