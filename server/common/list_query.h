// The `filter` and `order_by` of ListCertificates (AIP-160 and AIP-132
// subsets): what a caller may ask of a list that certbridge filters, orders
// and pages itself, since neither vendor can. Pure functions of caller text:
// every error is INVALID_ARGUMENT naming the field, quotes at most a short
// piece of the input, and never echoes the whole of it.
#ifndef CERTBRIDGE_SERVER_COMMON_LIST_QUERY_H_
#define CERTBRIDGE_SERVER_COMMON_LIST_QUERY_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certbridge {

/// Longest `filter` accepted, in bytes.
inline constexpr std::size_t kMaxFilterBytes = 1024;
/// Most comparisons joined with AND in one `filter`.
inline constexpr int kMaxFilterTerms = 8;
/// Longest `order_by` accepted, in bytes.
inline constexpr std::size_t kMaxOrderByBytes = 64;

/// One comparison `expire_time OP "RFC 3339"`.
struct ExpireTimeBound {
  enum class Op { kLess, kLessOrEqual, kGreater, kGreaterOrEqual };
  Op op = Op::kLess;
  absl::Time time;
};

/// A parsed filter: every bound must hold (AND). Empty: everything matches.
struct ListFilter {
  std::vector<ExpireTimeBound> expire_time;

  /// Whether a certificate expiring at `expire_time` (nullopt: no expiry
  /// known) passes. Without an expiry, only the empty filter passes.
  bool Matches(std::optional<absl::Time> expire_time) const;
};

/// Grammar (whitespace free between tokens; AND is upper case, as in
/// AIP-160):
///   filter := "" | term { "AND" term }
///   term   := "expire_time" ( "<" | "<=" | ">" | ">=" ) string
///   string := '"' RFC 3339 timestamp with a zone (Z or +hh:mm) '"'
/// Times must lie within google.protobuf.Timestamp's range (years 1-9999).
absl::StatusOr<ListFilter> ParseListFilter(absl::string_view text);

/// A parsed order_by: one key, then name as the tie-breaker.
struct ListOrder {
  enum class Key { kName, kExpireTime };
  Key key = Key::kName;
  bool descending = false;
};

/// "" (name ascending), "name", "expire_time", each optionally followed by
/// "asc" or "desc".
absl::StatusOr<ListOrder> ParseListOrder(absl::string_view text);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_LIST_QUERY_H_
