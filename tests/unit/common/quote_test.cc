#include "server/common/quote.h"

#include <gtest/gtest.h>

namespace certbridge {
namespace {

TEST(QuoteTest, QuotesAndEscapesControlBytesAndInvalidUtf8) {
  EXPECT_EQ(QuoteInput("plain"), "\"plain\"");
  EXPECT_EQ(QuoteInput("a\nb\"c\\"), "\"a\\x0ab\\x22c\\x5c\"");
  EXPECT_EQ(QuoteInput(std::string("\0\x7f", 2)), "\"\\x00\\x7f\"");
  EXPECT_EQ(QuoteInput("\xff\xfe"), "\"\\xff\\xfe\"");
  EXPECT_EQ(QuoteInput("\xC3\xA7"), "\"\xC3\xA7\"");  // UTF-8 kept
}

TEST(QuoteTest, CutsLongInputOnACharacterBoundaryAndSaysSo) {
  const std::string long_text = std::string(127, 'a') + "\xC3\xA7" + "tail";
  const std::string quoted = QuoteInput(long_text);
  // 127 'a' fit; the 2-byte character would pass 128, so the cut is before.
  EXPECT_EQ(quoted, "\"" + std::string(127, 'a') + "\"...(6 more bytes)");
  EXPECT_LT(QuoteInput(std::string(10000, 'x')).size(), 160u);
}

TEST(QuoteTest, BoundTextKeepsValidTextAndMarksTheCut) {
  EXPECT_EQ(BoundText("hello", 10), "hello");
  EXPECT_EQ(BoundText("hello world", 5), "hello...");
  EXPECT_EQ(BoundText("a\x01"
                      "b\xff",
                      10),
            "a?b?");
}

TEST(QuoteTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("\xC3\xA7\xE2\x82\xAC\xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAE"));          // overlong '.'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
}

}  // namespace
}  // namespace certbridge
