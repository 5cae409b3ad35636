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
  CertificateName name{"api", true, "Pay ments/EU", "root ca"};
  const std::string text = FormatCertificateName(name);
  EXPECT_EQ(text,
            "backends/api/projects/Pay%20ments%2FEU/certificates/root%20ca");
  auto back = ParseCertificateName(text, "name");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->project, "Pay ments/EU");
  EXPECT_EQ(back->certificate, "root ca");
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
