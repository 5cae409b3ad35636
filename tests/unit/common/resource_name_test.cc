#include "server/common/resource_name.h"

#include <gtest/gtest.h>

#include "server/common/errors.h"

namespace certbridge {
namespace {

TEST(ResourceNameTest, ParsesLeegalityShape) {
  auto n = ParseCertificateName(
      "backends/leegality/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc",
      "name");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->backend, "leegality");
  EXPECT_FALSE(n->has_project);
  EXPECT_EQ(n->certificate, "46d4e120-ed03-47cc-98c6-529bff3bbabc");
}

TEST(ResourceNameTest, ParsesApinizerShapeAndUnescapes) {
  auto n = ParseCertificateName(
      "backends/api-1/projects/My%20Project/certificates/%C3%A7ert", "name");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_TRUE(n->has_project);
  EXPECT_EQ(n->project, "My Project");
  EXPECT_EQ(n->certificate,
            "\xC3\xA7"
            "ert");
}

TEST(ResourceNameTest, FormatRoundTrips) {
  CertificateName name{"api", true, "Pay ments:EU", "root ca.v2"};
  const std::string text = FormatCertificateName(name);
  EXPECT_EQ(text,
            "backends/api/projects/Pay%20ments%3AEU/certificates/root%20ca.v2");
  auto back = ParseCertificateName(text, "name");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->project, "Pay ments:EU");
  EXPECT_EQ(back->certificate, "root ca.v2");
}

// Issue 10 finding 1: segments that URL normalisation would remove or
// resolve, and bytes that let a server see a different path, never parse.
TEST(ResourceNameTest, SegmentsThatCouldChangeThePathAreRefused) {
  for (const char* bad : {
           "backends/a/projects/Payments/certificates/..",
           "backends/a/projects/Payments/certificates/.",
           "backends/a/projects/../certificates/x",
           "backends/a/projects/./certificates/x",
           "backends/a/projects/Payments/certificates/%2E%2E",
           "backends/a/projects/Payments/certificates/%2e",
           "backends/a/projects/%2E%2e/certificates/x",
           "backends/a/projects/Payments/certificates/a%2Fb",
           "backends/a/projects/Payments/certificates/..%2F..%2Fadmin",
           "backends/a/projects/Payments/certificates/a%5Cb",
           "backends/a/projects/Payments/certificates/a%00b",
           "backends/a/projects/Payments/certificates/a%0Ab",
           "backends/a/projects/Payments/certificates/a%7Fb",
           "backends/a/projects/Payments/certificates/%FF%FE",
           "backends/a/projects/Payments/certificates/%C0%AE%C0%AE",
       }) {
    auto n = ParseCertificateName(bad, "name");
    ASSERT_FALSE(n.ok()) << bad;
    EXPECT_EQ(GetErrorInfo(n.status())->reason, "INVALID_NAME") << bad;
  }
  EXPECT_FALSE(ParseParentName("backends/a/projects/..", "parent").ok());
  EXPECT_FALSE(ParseParentName("backends/a/projects/%2E", "parent").ok());
  // Dots inside a name are ordinary characters.
  EXPECT_TRUE(
      ParseCertificateName("backends/a/projects/p/certificates/...", "name")
          .ok());
  EXPECT_TRUE(
      ParseCertificateName("backends/a/projects/p/certificates/a..b", "name")
          .ok());
}

TEST(ResourceNameTest, LengthsAreBounded) {
  const std::string max_segment(kMaxSegmentBytes, 'x');
  EXPECT_TRUE(ParseCertificateName(
                  "backends/a/projects/p/certificates/" + max_segment, "name")
                  .ok());
  auto too_long = ParseCertificateName(
      "backends/a/projects/p/certificates/" + max_segment + "x", "name");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(GetErrorInfo(too_long.status())->reason, "INVALID_NAME");
  auto huge = ParseCertificateName(std::string(10000, 'a'), "name");
  ASSERT_FALSE(huge.ok());
  EXPECT_LT(huge.status().message().size(), 200u);
}

TEST(ResourceNameTest, ErrorsQuoteCallerInputBoundedAndEscaped) {
  auto n = ParseCertificateName(
      "backends/" + std::string(1500, 'Z') + "\n/certificates/x", "name");
  ASSERT_FALSE(n.ok());
  const std::string message(n.status().message());
  EXPECT_LT(message.size(), 300u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_NE(message.find("more bytes"), std::string::npos) << message;
}

class BadNameTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BadNameTest, IsInvalidName) {
  auto n = ParseCertificateName(GetParam(), "name");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorInfo(n.status())->reason, "INVALID_NAME");
  auto violations = GetFieldViolations(n.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "name");
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, BadNameTest,
    ::testing::Values("", "backends", "backends/x/certificates",
                      "backends/x/certificates/", "backends//certificates/a",
                      "backend/x/certificates/a", "backends/x/certs/a",
                      "backends/X/certificates/a", "backends/x/projects/p/a/b",
                      "backends/x/certificates/a/b",
                      "backends/x/certificates/%zz",
                      "backends/x/certificates/ab%2"));

TEST(ResourceNameTest, ParentShapes) {
  auto p = ParseParentName("backends/leegality", "parent");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_project);
  p = ParseParentName("backends/api/projects/My%20P", "parent");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->project, "My P");
  EXPECT_FALSE(ParseParentName("backends/api/projects", "parent").ok());
  EXPECT_FALSE(ParseParentName("backends/api/certificates/x", "parent").ok());
}

TEST(ResourceNameTest, UuidAndBackendNames) {
  EXPECT_TRUE(IsUuid("46d4e120-ed03-47cc-98c6-529bff3bbabc"));
  EXPECT_TRUE(IsUuid("46D4E120-ED03-47CC-98C6-529BFF3BBABC"));
  EXPECT_FALSE(IsUuid("46d4e120ed0347cc98c6529bff3bbabc"));
  EXPECT_FALSE(IsUuid("46d4e120-ed03-47cc-98c6-529bff3bbabz"));
  EXPECT_FALSE(IsUuid("invalid-id-123"));
  EXPECT_TRUE(IsValidBackendName("leegality-2"));
  EXPECT_FALSE(IsValidBackendName("2leegality"));
  EXPECT_FALSE(IsValidBackendName("Lee"));
  EXPECT_FALSE(IsValidBackendName(std::string(64, 'a')));
}

}  // namespace
}  // namespace certbridge
