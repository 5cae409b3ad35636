#include "server/common/time_format.h"

#include <string>

#include "absl/strings/strip.h"

namespace certbridge {

std::optional<absl::Time> ParseBackendTime(absl::string_view text) {
  std::string s(absl::StripAsciiWhitespace(text));
  if (s.empty()) return std::nullopt;
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  absl::Time t;
  std::string err;
  // %Ez accepts "Z", "+hh:mm"; %E*S accepts optional fractional seconds.
  for (const char* format :
       {"%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d%ET%H:%M:%E*S", "%Y-%m-%d"}) {
    if (absl::ParseTime(format, s, absl::UTCTimeZone(), &t, &err) &&
        t != absl::InfiniteFuture() && t != absl::InfinitePast()) {
      return t;
    }
  }
  return std::nullopt;
}

std::optional<absl::Time> ParseHttpDate(absl::string_view text) {
  absl::Time t;
  std::string err;
  // absl::ParseTime also accepts "infinite-future" and "infinite-past",
  // whatever the format; no HTTP date is either.
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT",
                      std::string(absl::StripAsciiWhitespace(text)),
                      absl::UTCTimeZone(), &t, &err) &&
      t != absl::InfiniteFuture() && t != absl::InfinitePast()) {
    return t;
  }
  return std::nullopt;
}

bool ToTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z (timestamp.proto).
  constexpr int64_t kMinSeconds = -62135596800;
  constexpr int64_t kMaxSeconds = 253402300799;
  if (t < absl::FromUnixSeconds(kMinSeconds) ||
      t >= absl::FromUnixSeconds(kMaxSeconds + 1)) {
    return false;
  }
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return true;
}

}  // namespace certbridge
