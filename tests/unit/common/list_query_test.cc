// ListCertificates' filter and order_by parsers: what is accepted, what each
// comparison means, and that hostile input is refused with a bounded
// message that never echoes it whole.
#include "server/common/list_query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/time/time.h"
#include "server/common/errors.h"

namespace certbridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

void ExpectRejected(absl::string_view filter, const char* why_part = "") {
  auto parsed = ParseListFilter(filter);
  ASSERT_FALSE(parsed.ok()) << filter;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorInfo(parsed.status())->reason, "INVALID_ARGUMENT");
  ASSERT_EQ(GetFieldViolations(parsed.status()).size(), 1u);
  EXPECT_EQ(GetFieldViolations(parsed.status())[0].field, "filter");
  EXPECT_THAT(parsed.status().message(), HasSubstr(why_part)) << filter;
  // Short, whatever the input.
  EXPECT_LE(parsed.status().message().size(), 300u) << filter;
}

TEST(ListFilterTest, EmptyAndBlankMatchEverythingEvenWithoutExpiry) {
  for (const char* text : {"", "   ", "\t\n"}) {
    auto f = ParseListFilter(text);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_TRUE(f->expire_time.empty());
    EXPECT_TRUE(f->Matches(std::nullopt));
    EXPECT_TRUE(f->Matches(At("2030-01-01T00:00:00Z")));
  }
}

TEST(ListFilterTest, LessThanIsStrict) {
  auto f = ParseListFilter(R"(expire_time < "2027-01-01T00:00:00Z")");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->Matches(At("2026-12-31T23:59:59Z")));
  EXPECT_FALSE(f->Matches(At("2027-01-01T00:00:00Z")));
  EXPECT_FALSE(f->Matches(At("2027-06-01T00:00:00Z")));
  // A certificate without an expiry never matches a comparison.
  EXPECT_FALSE(f->Matches(std::nullopt));
}

TEST(ListFilterTest, EveryOperatorAndSpacing) {
  const absl::Time at = At("2027-01-01T00:00:00Z");
  const absl::Time before = at - absl::Seconds(1);
  const absl::Time after = at + absl::Seconds(1);
  struct Case {
    const char* text;
    bool before, at, after;
  } cases[] = {
      {R"(expire_time<"2027-01-01T00:00:00Z")", true, false, false},
      {R"(expire_time <= "2027-01-01T00:00:00Z")", true, true, false},
      {R"(  expire_time>"2027-01-01T00:00:00Z"  )", false, false, true},
      {R"(expire_time >= "2027-01-01T01:00:00+01:00")", false, true, true},
  };
  for (const Case& c : cases) {
    auto f = ParseListFilter(c.text);
    ASSERT_TRUE(f.ok()) << c.text << ": " << f.status();
    EXPECT_EQ(f->Matches(before), c.before) << c.text;
    EXPECT_EQ(f->Matches(at), c.at) << c.text;
    EXPECT_EQ(f->Matches(after), c.after) << c.text;
  }
}

TEST(ListFilterTest, AndIsARange) {
  auto f = ParseListFilter(
      R"(expire_time >= "2026-06-01T00:00:00Z" AND expire_time < "2026-07-01T00:00:00.5Z")");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->expire_time.size(), 2u);
  EXPECT_FALSE(f->Matches(At("2026-05-31T23:59:59Z")));
  EXPECT_TRUE(f->Matches(At("2026-06-15T00:00:00Z")));
  EXPECT_TRUE(f->Matches(At("2026-07-01T00:00:00Z")));
  EXPECT_FALSE(f->Matches(At("2026-07-01T00:00:01Z")));
}

TEST(ListFilterTest, UnsupportedSyntaxIsRefused) {
  ExpectRejected(R"(name = "x")", "only expire_time");
  ExpectRejected(R"(leegality.expire_time < "2027-01-01T00:00:00Z")",
                 "only expire_time");
  ExpectRejected(R"(expire_time = "2027-01-01T00:00:00Z")", "expected <");
  ExpectRejected(R"(expire_time != "2027-01-01T00:00:00Z")", "expected <");
  ExpectRejected(R"(expire_time : "2027")", "expected <");
  ExpectRejected(R"(expire_time << "2027-01-01T00:00:00Z")", "expected <");
  ExpectRejected(
      R"(expire_time < "2027-01-01T00:00:00Z" OR expire_time > "2030-01-01T00:00:00Z")",
      "expected AND");
  ExpectRejected(
      R"(expire_time < "2027-01-01T00:00:00Z" and expire_time > "2020-01-01T00:00:00Z")",
      "expected AND");
  ExpectRejected(R"(NOT expire_time < "2027-01-01T00:00:00Z")",
                 "only expire_time");
  ExpectRejected(R"(-expire_time < "2027-01-01T00:00:00Z")",
                 "expected the field");
  ExpectRejected(R"((expire_time < "2027-01-01T00:00:00Z"))",
                 "expected the field");
  ExpectRejected(R"(expire_time < "2027-01-01T00:00:00Z" AND)",
                 "expected the field");
  ExpectRejected(R"(expire_time < "2027-01-01T00:00:00Z" extra)",
                 "expected AND");
  ExpectRejected("expire_time <", "double quotes");
  ExpectRejected("expire_time < 2027-01-01T00:00:00Z", "double quotes");
  ExpectRejected(R"(expire_time < '2027-01-01T00:00:00Z')", "double quotes");
  ExpectRejected(R"(expire_time < "2027-01-01T00:00:00Z)", "unterminated");
  ExpectRejected(R"(expire_time < "2027-01-01T00:00:00\"Z")", "escapes");
  ExpectRejected("expire_time", "expected <");
}

TEST(ListFilterTest, TimestampsMustBeRfc3339WithAZoneInRange) {
  ExpectRejected(R"(expire_time < "2027-01-01")", "RFC 3339");
  ExpectRejected(R"(expire_time < "2027-01-01T00:00:00")", "RFC 3339");
  ExpectRejected(R"(expire_time < "2027-01-01 00:00:00Z")", "RFC 3339");
  ExpectRejected(R"(expire_time < "tomorrow")", "RFC 3339");
  ExpectRejected(R"(expire_time < "")", "RFC 3339");
  ExpectRejected(R"(expire_time < "infinite-future")", "RFC 3339");
  ExpectRejected(R"(expire_time < "infinite-past")", "RFC 3339");
  ExpectRejected(R"(expire_time < "10000-01-01T00:00:00Z")", "RFC 3339");
  ExpectRejected(R"(expire_time < "0000-12-31T23:59:59Z")", "RFC 3339");
  ExpectRejected(R"(expire_time < "2027-13-01T00:00:00Z")", "RFC 3339");
  auto latest = ParseListFilter(R"(expire_time < "9999-12-31T23:59:59Z")");
  EXPECT_TRUE(latest.ok()) << latest.status();
}

TEST(ListFilterTest, HostileInputIsBoundedAndNeverEchoedWhole) {
  // Too long: refused before it is read, without quoting it.
  const std::string huge(kMaxFilterBytes + 1, 'A');
  ExpectRejected(huge, "at most 1024");
  EXPECT_THAT(std::string(ParseListFilter(huge).status().message()),
              Not(HasSubstr("AAAA")));
  // Long but within the limit: only a short piece is quoted.
  const std::string field(1000, 'x');
  auto status = ParseListFilter(field).status();
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(field)));
  EXPECT_LE(status.message().size(), 300u);
  // A long timestamp value is not quoted whole either.
  const std::string value = "expire_time < \"" + std::string(900, '9') + "\"";
  ExpectRejected(value, "RFC 3339");
  // Control bytes and invalid UTF-8 come back escaped.
  auto control = ParseListFilter("expire_time < \"\x1b[2J\xff\"");
  ASSERT_FALSE(control.ok());
  EXPECT_THAT(std::string(control.status().message()), Not(HasSubstr("\x1b")));
  EXPECT_THAT(std::string(control.status().message()), Not(HasSubstr("\xff")));
  // NUL inside is just a byte that does not parse.
  ExpectRejected(std::string("expire_time\0< \"2027-01-01T00:00:00Z\"", 36));
  // Too many comparisons.
  std::string many;
  for (int i = 0; i <= kMaxFilterTerms; ++i) {
    if (i > 0) many += " AND ";
    many += R"(expire_time < "2027-01-01T00:00:00Z")";
  }
  ASSERT_LE(many.size(), kMaxFilterBytes);
  ExpectRejected(many, "more than 8");
}

TEST(ListOrderTest, AcceptedForms) {
  struct Case {
    const char* text;
    ListOrder::Key key;
    bool descending;
  } cases[] = {
      {"", ListOrder::Key::kName, false},
      {"name", ListOrder::Key::kName, false},
      {"name desc", ListOrder::Key::kName, true},
      {"expire_time", ListOrder::Key::kExpireTime, false},
      {" expire_time   asc ", ListOrder::Key::kExpireTime, false},
      {"expire_time desc", ListOrder::Key::kExpireTime, true},
  };
  for (const Case& c : cases) {
    auto order = ParseListOrder(c.text);
    ASSERT_TRUE(order.ok()) << c.text << ": " << order.status();
    EXPECT_EQ(order->key, c.key) << c.text;
    EXPECT_EQ(order->descending, c.descending) << c.text;
  }
}

TEST(ListOrderTest, AnythingElseIsRefused) {
  for (const char* text : {"create_time", "expire_time DESC",
                           "expire_time desc, name", "expire_time desc desc",
                           "-expire_time", "expire_time,", "name asc x"}) {
    auto order = ParseListOrder(text);
    ASSERT_FALSE(order.ok()) << text;
    EXPECT_EQ(order.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(GetFieldViolations(order.status())[0].field, "order_by");
  }
  const std::string huge(5000, 'n');
  auto order = ParseListOrder(huge);
  ASSERT_FALSE(order.ok());
  EXPECT_LE(order.status().message().size(), 200u);
}

}  // namespace
}  // namespace certbridge
