// Parses the time strings the vendors return. Their formats are not
// always documented (examples print "string", or ISO-8601 with and without
// milliseconds), so parsing is tolerant and callers keep the
// raw string whenever parsing fails.
#ifndef CERTBRIDGE_SERVER_COMMON_TIME_FORMAT_H_
#define CERTBRIDGE_SERVER_COMMON_TIME_FORMAT_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace certbridge {

/// Accepts RFC 3339 (with or without fractional seconds, "Z" or an offset),
/// the same without a zone (taken as UTC), a space instead of 'T', and a bare
/// date (midnight UTC).
std::optional<absl::Time> ParseBackendTime(absl::string_view text);

/// RFC 7231 HTTP-date (IMF-fixdate), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<absl::Time> ParseHttpDate(absl::string_view text);

/// Sets `out` when `t` is within google.protobuf.Timestamp's range (years
/// 1 to 9999); false (and `out` untouched) otherwise, e.g. for a vendor's
/// "20602-03-31" -- callers then keep only the raw string.
bool ToTimestamp(absl::Time t, google::protobuf::Timestamp* out);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_TIME_FORMAT_H_
