// Caller input and vendor text that end up inside error messages are
// untrusted and unbounded. Quoting bounds them (gRPC sends the message in a
// trailer, and a client drops a call whose trailers pass its metadata limit)
// and makes control bytes visible instead of letting them forge log lines.
#ifndef CERTBRIDGE_SERVER_COMMON_QUOTE_H_
#define CERTBRIDGE_SERVER_COMMON_QUOTE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace certbridge {

/// How much of one caller-supplied value an error message quotes.
inline constexpr std::size_t kMaxQuotedInput = 128;

/// `text` in double quotes, at most `max_bytes` of it (cut on a UTF-8
/// boundary and marked "...(N more bytes)"); control bytes, quotes,
/// backslashes and invalid UTF-8 are written as \xNN.
std::string QuoteInput(absl::string_view text,
                       std::size_t max_bytes = kMaxQuotedInput);

/// `text` cut to at most `max_bytes` on a UTF-8 boundary, with "..." added
/// when cut. Invalid UTF-8 and control bytes become '?'.
std::string BoundText(absl::string_view text, std::size_t max_bytes);

/// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or code
/// points above U+10FFFF).
bool IsValidUtf8(absl::string_view text);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_QUOTE_H_
