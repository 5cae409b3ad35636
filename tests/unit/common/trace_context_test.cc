#include "server/common/trace_context.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/common/errors.h"
#include "server/common/grpc_status.h"

namespace certbridge {
namespace {

constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kParentId[] = "00f067aa0ba902b7";
constexpr char kValid[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

bool IsLowerHex(const std::string& s, std::size_t size) {
  if (s.size() != size) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return s.find_first_not_of('0') != std::string::npos;
}

TEST(TraceContextTest, ParsesAValidTraceparent) {
  auto t = TraceContext::Parse(kValid, "");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->trace_id(), kTraceId);
  EXPECT_EQ(t->parent_id(), kParentId);
  EXPECT_TRUE(t->sampled());
  EXPECT_EQ(t->tracestate(), "");
  EXPECT_EQ(t->ToTraceparent(), kValid);
}

TEST(TraceContextTest, KeepsTheSampledBitOnly) {
  auto unsampled = TraceContext::Parse(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "");
  ASSERT_TRUE(unsampled.has_value());
  EXPECT_FALSE(unsampled->sampled());
  auto other_bits = TraceContext::Parse(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", "");
  ASSERT_TRUE(other_bits.has_value());
  EXPECT_EQ(other_bits->flags(), 0x01);
  EXPECT_TRUE(absl::EndsWith(other_bits->ToTraceparent(), "-01"));
}

TEST(TraceContextTest, RejectsInvalidTraceparents) {
  const std::string cases[] = {
      "",
      "garbage",
      // uppercase hex anywhere
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
      "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // all-zero ids
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      // wrong lengths
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
      // version 00 has exactly four fields
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      // version ff is invalid whatever follows
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // a future version's extra fields start with a dash
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
      // separators
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
      // garbage bytes of the right length
      std::string("00-4bf92f3577b34da6a3ce929d0e0e47\0\xff-00f067aa0ba902b7-01",
                  55),
      std::string(55, '\xff'),
      std::string(55, '-'),
  };
  for (const std::string& c : cases) {
    EXPECT_FALSE(TraceContext::Parse(c, "congo=t61rcWkgMzE").has_value())
        << "accepted: " << c;
  }
}

TEST(TraceContextTest, ReadsTheFirstFourFieldsOfAFutureVersion) {
  auto bare = TraceContext::Parse(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->trace_id(), kTraceId);
  auto extra = TraceContext::Parse(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever", "");
  ASSERT_TRUE(extra.has_value());
  EXPECT_EQ(extra->parent_id(), kParentId);
  // What goes on is the version this implements.
  EXPECT_EQ(extra->ToTraceparent(), kValid);
}

TEST(TraceContextTest, PassesABoundedTracestateOn) {
  auto t = TraceContext::Parse(kValid, " rojo=00f067aa0ba902b7,congo=t61 ");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->tracestate(), "rojo=00f067aa0ba902b7,congo=t61");
  // Empty list members are allowed and not counted.
  auto sparse = TraceContext::Parse(kValid, "a=1,,b=2, ,");
  ASSERT_TRUE(sparse.has_value());
  EXPECT_EQ(sparse->tracestate(), "a=1,,b=2, ,");
}

TEST(TraceContextTest, DropsAnUnusableTracestateButKeepsTheTrace) {
  std::string members;
  for (int i = 0; i < 33; ++i)
    absl::StrAppend(&members, i ? "," : "", "k", i, "=v");
  std::string members32;
  for (int i = 0; i < 32; ++i)
    absl::StrAppend(&members32, i ? "," : "", "k", i, "=v");
  const std::string cases[] = {
      "k=" + std::string(511, 'v'),  // 513 bytes
      members,                       // 33 members
      "a=1\tb",                      // control character
      "a=1\n",                       // would split a header
      "a=caf\xc3\xa9",               // not ASCII
      "novalue",                     // not a list member
      "=v",
  };
  for (const std::string& c : cases) {
    auto t = TraceContext::Parse(kValid, c);
    ASSERT_TRUE(t.has_value()) << c;
    EXPECT_EQ(t->trace_id(), kTraceId);
    EXPECT_EQ(t->tracestate(), "") << "passed on: " << c;
  }
  EXPECT_EQ(TraceContext::Parse(kValid, members32)->tracestate(), members32);
  const std::string limit = "k=" + std::string(510, 'v');
  EXPECT_EQ(TraceContext::Parse(kValid, limit)->tracestate(), limit);
}

TEST(TraceContextTest, AnInvalidTraceparentStartsANewTraceWithoutTracestate) {
  const TraceContext t = TraceContext::FromHeaders(
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "a=1");
  EXPECT_TRUE(IsLowerHex(t.trace_id(), 32)) << t.trace_id();
  EXPECT_NE(t.trace_id(), std::string(32, '0'));
  EXPECT_TRUE(IsLowerHex(t.parent_id(), 16));
  EXPECT_FALSE(t.sampled());
  EXPECT_EQ(t.tracestate(), "");
  EXPECT_TRUE(TraceContext::Parse(t.ToTraceparent(), "").has_value())
      << t.ToTraceparent();
  // A valid one is kept.
  EXPECT_EQ(TraceContext::FromHeaders(kValid, "a=1").trace_id(), kTraceId);
}

TEST(TraceContextTest, GeneratedIdsDiffer) {
  std::set<std::string> traces;
  std::set<std::string> spans;
  for (int i = 0; i < 1000; ++i) {
    traces.insert(TraceContext::Generate().trace_id());
    const std::string span = TraceContext::NewSpanId();
    EXPECT_TRUE(IsLowerHex(span, 16)) << span;
    spans.insert(span);
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(spans.size(), 1000u);
}

TEST(TraceContextTest, AChildKeepsTheTraceAndTakesTheSpan) {
  const TraceContext parent = *TraceContext::Parse(kValid, "a=1");
  const TraceContext child = parent.NewChild("1111111111111111");
  EXPECT_EQ(child.trace_id(), kTraceId);
  EXPECT_EQ(child.parent_id(), "1111111111111111");
  EXPECT_EQ(child.tracestate(), "a=1");
  EXPECT_EQ(child.ToTraceparent(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01");
}

// grpc-retry-pushback-ms (grpc_status.h), next to the other trailer-facing
// rules of the edge.
TEST(RetryPushbackTest, IsTheRetryDelayInWholeMillisecondsRoundedUp) {
  absl::Status s = MakeError(absl::StatusCode::kUnavailable, "busy",
                             reason::kBackendUnavailable);
  EXPECT_EQ(RetryPushbackMs(s), std::nullopt);
  SetRetryDelay(s, absl::Seconds(2));
  EXPECT_EQ(RetryPushbackMs(s), "2000");
  SetRetryDelay(s, absl::Microseconds(1500));
  EXPECT_EQ(RetryPushbackMs(s), "2");
  SetRetryDelay(s, absl::ZeroDuration());
  EXPECT_EQ(RetryPushbackMs(s), "0");
  SetRetryDelay(s, absl::Hours(48));
  EXPECT_EQ(RetryPushbackMs(s),
            absl::StrCat(absl::ToInt64Milliseconds(kMaxRetryPushback)));
  EXPECT_EQ(RetryPushbackMs(absl::OkStatus()), std::nullopt);
}

}  // namespace
}  // namespace certbridge
