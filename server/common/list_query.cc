#include "server/common/list_query.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/quote.h"

namespace certbridge {
namespace {

// Error messages quote at most this much of the caller's text.
constexpr std::size_t kQuoted = 32;

constexpr char kFilterExample[] =
    "expire_time < \"2027-01-01T00:00:00Z\", comparisons (<, <=, >, >=) "
    "joined with AND";

absl::Status FilterError(absl::string_view why) {
  return MakeValidationError(reason::kInvalidArgument, "filter", why);
}

absl::Status FilterErrorAt(absl::string_view why, absl::string_view at) {
  return FilterError(absl::StrCat(why, " at ", QuoteInput(at, kQuoted),
                                  "; supported: ", kFilterExample));
}

bool IsIdentStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '.';
}

// A cursor over the filter text.
class Lexer {
 public:
  explicit Lexer(absl::string_view text) : rest_(text) {}

  void SkipSpace() {
    while (!rest_.empty() && absl::ascii_isspace(rest_.front())) {
      rest_.remove_prefix(1);
    }
  }
  bool AtEnd() {
    SkipSpace();
    return rest_.empty();
  }
  absl::string_view rest() const { return rest_; }

  /// An identifier, or empty when the next token is not one.
  absl::string_view Identifier() {
    SkipSpace();
    if (rest_.empty() || !IsIdentStart(rest_.front())) return {};
    std::size_t n = 1;
    while (n < rest_.size() && IsIdentChar(rest_[n])) ++n;
    absl::string_view id = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return id;
  }

  /// A comparison operator made of < > = ! : characters, or empty.
  absl::string_view Operator() {
    SkipSpace();
    std::size_t n = 0;
    while (n < rest_.size() && n < 2 &&
           (rest_[n] == '<' || rest_[n] == '>' || rest_[n] == '=' ||
            rest_[n] == '!' || rest_[n] == ':')) {
      ++n;
    }
    absl::string_view op = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return op;
  }

  /// The contents of a double-quoted string (no escapes: a timestamp has
  /// none), or an error.
  absl::StatusOr<absl::string_view> QuotedString() {
    SkipSpace();
    if (rest_.empty() || rest_.front() != '"') {
      return FilterErrorAt("expected a timestamp in double quotes", rest_);
    }
    const std::size_t close = rest_.find('"', 1);
    if (close == absl::string_view::npos) {
      return FilterErrorAt("unterminated string", rest_);
    }
    absl::string_view value = rest_.substr(1, close - 1);
    if (value.find('\\') != absl::string_view::npos) {
      return FilterErrorAt("escapes are not supported in a timestamp", rest_);
    }
    rest_.remove_prefix(close + 1);
    return value;
  }

 private:
  absl::string_view rest_;
};

absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text) {
  absl::Time t;
  std::string err;
  // %Ez takes "Z" or "+hh:mm"; the zone is required (RFC 3339). ParseTime
  // also accepts "infinite-future"/"infinite-past" whatever the format.
  constexpr int64_t kMinSeconds = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  if (text.size() > 64 ||
      !absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", std::string(text),
                       absl::UTCTimeZone(), &t, &err) ||
      t < absl::FromUnixSeconds(kMinSeconds) ||
      t >= absl::FromUnixSeconds(kMaxSeconds + 1)) {
    return FilterError(absl::StrCat(
        QuoteInput(text, kQuoted),
        " is not an RFC 3339 timestamp between years 1 and 9999 with a zone, "
        "e.g. \"2027-01-01T00:00:00Z\""));
  }
  return t;
}

}  // namespace

bool ListFilter::Matches(std::optional<absl::Time> t) const {
  if (expire_time.empty()) return true;
  if (!t) return false;
  for (const ExpireTimeBound& b : expire_time) {
    bool ok = false;
    switch (b.op) {
      case ExpireTimeBound::Op::kLess:
        ok = *t < b.time;
        break;
      case ExpireTimeBound::Op::kLessOrEqual:
        ok = *t <= b.time;
        break;
      case ExpireTimeBound::Op::kGreater:
        ok = *t > b.time;
        break;
      case ExpireTimeBound::Op::kGreaterOrEqual:
        ok = *t >= b.time;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<ListFilter> ParseListFilter(absl::string_view text) {
  ListFilter filter;
  if (text.size() > kMaxFilterBytes) {
    return FilterError(absl::StrCat("is ", text.size(), " bytes long; at most ",
                                    kMaxFilterBytes, " are accepted"));
  }
  Lexer lex(text);
  if (lex.AtEnd()) return filter;
  while (true) {
    if (static_cast<int>(filter.expire_time.size()) == kMaxFilterTerms) {
      return FilterError(
          absl::StrCat("has more than ", kMaxFilterTerms, " comparisons"));
    }
    const absl::string_view before_field = lex.rest();
    const absl::string_view field = lex.Identifier();
    if (field.empty()) {
      return FilterErrorAt("expected the field expire_time", before_field);
    }
    if (field != "expire_time") {
      return FilterErrorAt("only expire_time can be filtered on", before_field);
    }
    const absl::string_view before_op = lex.rest();
    const absl::string_view op = lex.Operator();
    ExpireTimeBound bound;
    if (op == "<") {
      bound.op = ExpireTimeBound::Op::kLess;
    } else if (op == "<=") {
      bound.op = ExpireTimeBound::Op::kLessOrEqual;
    } else if (op == ">") {
      bound.op = ExpireTimeBound::Op::kGreater;
    } else if (op == ">=") {
      bound.op = ExpireTimeBound::Op::kGreaterOrEqual;
    } else {
      return FilterErrorAt("expected <, <=, > or >=", before_op);
    }
    auto value = lex.QuotedString();
    if (!value.ok()) return value.status();
    auto time = ParseRfc3339(*value);
    if (!time.ok()) return time.status();
    bound.time = *time;
    filter.expire_time.push_back(bound);
    if (lex.AtEnd()) return filter;
    const absl::string_view before_and = lex.rest();
    if (lex.Identifier() != "AND") {
      return FilterErrorAt("expected AND or the end of the filter", before_and);
    }
  }
}

absl::StatusOr<ListOrder> ParseListOrder(absl::string_view text) {
  auto error = [&text]() {
    return MakeValidationError(
        reason::kInvalidArgument, "order_by",
        absl::StrCat(QuoteInput(text, kQuoted),
                     " is not supported; use name or expire_time, optionally "
                     "followed by asc or desc"));
  };
  ListOrder order;
  if (text.size() > kMaxOrderByBytes) return error();
  Lexer lex(text);
  if (lex.AtEnd()) return order;
  const absl::string_view field = lex.Identifier();
  if (field == "name") {
    order.key = ListOrder::Key::kName;
  } else if (field == "expire_time") {
    order.key = ListOrder::Key::kExpireTime;
  } else {
    return error();
  }
  if (lex.AtEnd()) return order;
  const absl::string_view direction = lex.Identifier();
  if (direction == "desc") {
    order.descending = true;
  } else if (direction != "asc") {
    return error();
  }
  if (!lex.AtEnd()) return error();
  return order;
}

}  // namespace certbridge
