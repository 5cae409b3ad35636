// A backend's error response as the stubs map it (rest_exchange.cc):
// Retry-After header -> ParseRetryAfter, body -> the vendor's error parser,
// status -> MapHttpError. Properties: a Retry-After delay is never negative
// and delay-seconds parse exactly; MapHttpError never returns OK, always
// carries its ErrorInfo (backend, httpStatus), keeps the message bounded
// however long the vendor's text, and attaches RetryInfo exactly for
// 429/502/503 with a usable Retry-After.
//
// Input layout: byte 0 = kind (bit 0) and operation (bits 1-2); bytes 1-2 =
// HTTP status (big-endian, mod 1000); then the Retry-After value up to the
// first '\n', and the body after it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "server/backends/apinizer/apinizer_json.h"
#include "server/backends/leegality/leegality_json.h"
#include "server/common/errors.h"
#include "server/mapping/http_status_mapping.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using certbridge::Operation;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01

// "backend <63-char name> (leegality) returned HTTP <status>: " plus the
// 300-byte shortened vendor message and "...".
constexpr std::size_t kMaxMessage = 512;
// Per ErrorInfo metadata value (backend, httpStatus, backendCode).
constexpr std::size_t kMaxMetadataValue = 512;

std::optional<absl::Duration> CheckRetryAfter(absl::string_view value) {
  auto delay = certbridge::ParseRetryAfter(value, kNow);
  if (!delay) return delay;
  FUZZ_CHECK(*delay >= absl::ZeroDuration());
  FUZZ_CHECK(*delay <= certbridge::kMaxRetryAfter);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(absl::StripAsciiWhitespace(value), &seconds)) {
    FUZZ_CHECK(*delay ==
               std::min(absl::Seconds(seconds), certbridge::kMaxRetryAfter));
  }
  return delay;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input = certbridge::fuzz::AsText(data, size);
  if (size < 3) {
    CheckRetryAfter(input);
    return 0;
  }
  certbridge::HttpErrorInput in;
  const bool apinizer = (data[0] & 1) != 0;
  in.kind = apinizer ? "apinizer" : "leegality";
  in.operation = static_cast<Operation>((data[0] >> 1) & 3);
  in.http_status = ((data[1] << 8) | data[2]) % 1000;
  // The longest backend name configuration allows.
  in.backend = std::string(63, 'b');
  absl::string_view rest = input.substr(3);
  const std::size_t eol = rest.find('\n');
  const absl::string_view retry_after = rest.substr(0, eol);
  const absl::string_view body = eol == absl::string_view::npos
                                     ? absl::string_view()
                                     : rest.substr(eol + 1);
  in.retry_after = CheckRetryAfter(retry_after);
  in.body = apinizer ? certbridge::ParseApinizerError(body)
                     : certbridge::ParseLeegalityError(body);

  const absl::Status status = certbridge::MapHttpError(in);
  FUZZ_CHECK(!status.ok());
  FUZZ_CHECK(status.message().size() <= kMaxMessage);
  const auto info = certbridge::GetErrorInfo(status);
  FUZZ_CHECK(info.has_value());
  FUZZ_CHECK(!info->reason.empty());
  FUZZ_CHECK(info->domain == certbridge::kErrorDomain);
  FUZZ_CHECK(info->metadata.at("backend") == in.backend);
  FUZZ_CHECK(info->metadata.at("httpStatus") == absl::StrCat(in.http_status));
  // Vendor text is cut to size: it must still be UTF-8 (google.rpc.Status
  // and ErrorInfo hold it in proto3 strings), and the vendor's code must be
  // bounded like its message (a client drops a call whose trailers exceed
  // its metadata limit).
  FUZZ_CHECK(certbridge::fuzz::ValidUtf8(status.message()));
  for (const auto& [key, value] : info->metadata) {
    FUZZ_CHECK(certbridge::fuzz::ValidUtf8(value));
    FUZZ_CHECK(value.size() <= kMaxMetadataValue);
  }
  const bool retryable =
      in.http_status == 429 || in.http_status == 502 || in.http_status == 503;
  const auto delay = certbridge::GetRetryDelay(status);
  FUZZ_CHECK(delay.has_value() == (retryable && in.retry_after.has_value()));
  // RetryInfo.retry_delay is a google.protobuf.Duration: at most
  // 315,576,000,000 s, nanos in [0, 1e9) for a positive delay. (A past
  // finding: far-off Retry-After values used to pass through unchecked.)
  if (delay && certbridge::fuzz::Strict()) {
    FUZZ_CHECK(*delay >= absl::ZeroDuration());
    FUZZ_CHECK(
        *delay <=
        absl::Seconds(google::protobuf::util::TimeUtil::kDurationMaxSeconds));
    FUZZ_CHECK(*delay == *in.retry_after);
  }
  return 0;
}
