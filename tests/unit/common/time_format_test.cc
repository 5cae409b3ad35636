#include "server/common/time_format.h"

#include <gtest/gtest.h>

namespace certbridge {
namespace {

TEST(TimeFormatTest, ParsesVendorShapes) {
  const absl::Time expected =
      absl::FromUnixSeconds(1806537599);  // 2027-03-31T23:59:59Z
  EXPECT_EQ(ParseBackendTime("2027-03-31T23:59:59Z"), expected);
  EXPECT_EQ(ParseBackendTime("2027-03-31T23:59:59.000Z"), expected);
  EXPECT_EQ(ParseBackendTime("2027-03-31T23:59:59"), expected);
  EXPECT_EQ(ParseBackendTime("2027-03-31 23:59:59"), expected);
  EXPECT_EQ(ParseBackendTime("2027-04-01T01:59:59+02:00"), expected);
  EXPECT_EQ(ParseBackendTime("2027-03-31"), expected - absl::Seconds(86399));
  EXPECT_EQ(ParseBackendTime("2027-03-31T23:59:59.250Z"),
            expected + absl::Milliseconds(250));
}

TEST(TimeFormatTest, RejectsNonTimes) {
  EXPECT_FALSE(ParseBackendTime("string").has_value());
  EXPECT_FALSE(ParseBackendTime("").has_value());
  EXPECT_FALSE(ParseBackendTime("31/03/2027").has_value());
}

TEST(TimeFormatTest, HttpDate) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"),
            absl::FromUnixSeconds(784111777));
  EXPECT_FALSE(ParseHttpDate("tomorrow").has_value());
}

TEST(TimeFormatTest, Timestamp) {
  google::protobuf::Timestamp ts;
  ToTimestamp(absl::FromUnixMillis(1500), &ts);
  EXPECT_EQ(ts.seconds(), 1);
  EXPECT_EQ(ts.nanos(), 500000000);
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

// Fuzzing finding: vendor times outside google.protobuf.Timestamp's range
// must not become invalid Timestamps.
TEST(TimeFormatTest, TimesOutsideTimestampRangeAreNotConverted) {
  google::protobuf::Timestamp ts;
  ASSERT_TRUE(ParseBackendTime("20602-03-31T10:00:00Z") == std::nullopt ||
              !ToTimestamp(*ParseBackendTime("20602-03-31T10:00:00Z"), &ts));
  EXPECT_FALSE(ToTimestamp(absl::FromUnixSeconds(-99999999999999), &ts));
  EXPECT_FALSE(ToTimestamp(absl::InfiniteFuture(), &ts));
  EXPECT_TRUE(ToTimestamp(absl::FromUnixSeconds(253402300799), &ts));
  EXPECT_EQ(ParseHttpDate("infinite-future"), std::nullopt);
  EXPECT_EQ(ParseBackendTime("infinite-past"), std::nullopt);
}

}  // namespace
}  // namespace certbridge
