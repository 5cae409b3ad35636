#include "client/command_line.h"

#include <string>
#include <vector>

#include "client/vendors/cli_vendor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certbridge::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kLeName[] =
    "backends/le/certificates/0f8fad5b-d9cb-469f-a165-70867728950e";
constexpr char kApName[] = "backends/ap/projects/p1/certificates/gw-cert";

absl::StatusOr<Command> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args);
}

TEST(CommandLineTest, GetWithGlobalFlagsBeforeAndAfter) {
  auto c = Parse({"--address=host:1", "get", kLeName, "--timeout", "5s",
                  "--x_request_id=abc"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->verb, Verb::kGet);
  EXPECT_EQ(c->target, kLeName);
  EXPECT_EQ(c->vendor->kind(), "leegality");
  EXPECT_EQ(c->address, "host:1");
  EXPECT_EQ(c->timeout, absl::Seconds(5));
  EXPECT_EQ(c->x_request_id, "abc");
}

TEST(CommandLineTest, DefaultsAndTimeoutForms) {
  auto c = Parse({"get", kApName});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->vendor->kind(), "apinizer");
  EXPECT_EQ(c->timeout, absl::Seconds(30));
  EXPECT_FALSE(c->address.has_value());
  EXPECT_EQ(Parse({"get", kApName, "--timeout=7"})->timeout, absl::Seconds(7));
  EXPECT_EQ(Parse({"get", kApName, "--timeout=1m"})->timeout, absl::Minutes(1));
  EXPECT_FALSE(Parse({"get", kApName, "--timeout=soon"}).ok());
  EXPECT_FALSE(Parse({"get", kApName, "--timeout=0s"}).ok());
}

TEST(CommandLineTest, ResolveAddressOrder) {
  Command c;
  EXPECT_EQ(ResolveAddress(c, nullptr), kDefaultAddress);
  EXPECT_EQ(ResolveAddress(c, ""), kDefaultAddress);
  EXPECT_EQ(ResolveAddress(c, "env:2"), "env:2");
  c.address = "flag:3";
  EXPECT_EQ(ResolveAddress(c, "env:2"), "flag:3");
}

TEST(CommandLineTest, RejectsPasskeyFlagWithoutEchoingIt) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"create", "backends/le", "--file=a.p12", "--passkey=s3cr3t-pk"},
           {"create", "backends/le", "--file=a.p12", "--passkey", "s3cr3t-pk"},
           {"-passkey=s3cr3t-pk", "get", kLeName},
       }) {
    auto c = Parse(args);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(c.status().message(), HasSubstr("ps"));
    EXPECT_THAT(c.status().message(), HasSubstr("--passkey_file"));
    EXPECT_THAT(c.status().message(), Not(HasSubstr("s3cr3t-pk")));
  }
}

TEST(CommandLineTest, LeegalityCreate) {
  auto c =
      Parse({"create", "backends/le", "--file=/tmp/a.pfx", "--passkey_env=PK",
             "--department_id=d", "--enabled=false", "--request_id=r"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->verb, Verb::kCreate);
  EXPECT_EQ(c->vendor->kind(), "leegality");
  EXPECT_EQ(c->file, "/tmp/a.pfx");
  EXPECT_EQ(c->passkey_env, "PK");
  EXPECT_EQ(c->department_id, "d");
  EXPECT_EQ(c->enabled, false);
  EXPECT_EQ(c->request_id, "r");
  EXPECT_TRUE(NeedsPasskey(*c));
}

TEST(CommandLineTest, ApinizerCreate) {
  auto c = Parse({"create", "backends/ap/projects/p1", "--certificate_id=gw",
                  "--alias=a", "--description=d d", "--environments=e1, e2,",
                  "--file=c.pem"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->vendor->kind(), "apinizer");
  EXPECT_EQ(c->certificate_id, "gw");
  EXPECT_THAT(*c->environments, ElementsAre("e1", "e2"));
  EXPECT_FALSE(NeedsPasskey(*c));
}

TEST(CommandLineTest, CreateRequirements) {
  EXPECT_THAT(Parse({"create", "backends/le"}).status().message(),
              HasSubstr("--file"));
  EXPECT_THAT(Parse({"create", "backends/ap/projects/p", "--file=c.pem"})
                  .status()
                  .message(),
              HasSubstr("--certificate_id"));
  // A certificate name is not a parent.
  EXPECT_THAT(Parse({"create", kLeName, "--file=a.p12"}).status().message(),
              HasSubstr("PARENT must be"));
}

TEST(CommandLineTest, FlagsMustMatchKindAndVerb) {
  EXPECT_THAT(Parse({"create", "backends/le", "--file=a.p12", "--alias=x"})
                  .status()
                  .message(),
              HasSubstr("Leegality"));
  EXPECT_THAT(Parse({"update", kApName, "--enabled=true"}).status().message(),
              HasSubstr("Apinizer"));
  EXPECT_FALSE(Parse({"update", kApName, "--passkey_file=f"}).ok());
  EXPECT_FALSE(Parse({"delete", kLeName, "--jwk_delete_action=DELETE"}).ok());
  EXPECT_FALSE(Parse({"get", kLeName, "--file=a"}).ok());
  EXPECT_FALSE(Parse({"update", kLeName, "--request_id=r"}).ok());
}

TEST(CommandLineTest, PasskeySourceRules) {
  EXPECT_FALSE(Parse({"create", "backends/le", "--file=a.p12",
                      "--passkey_file=f", "--passkey_env=E"})
                   .ok());
  EXPECT_THAT(Parse({"update", kLeName, "--enabled=true", "--passkey_env=E"})
                  .status()
                  .message(),
              HasSubstr("--file"));
  auto c = Parse({"update", kLeName, "--enabled=true"});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(NeedsPasskey(*c));
}

TEST(CommandLineTest, EnumFlagsAcceptShortAndFullNames) {
  auto c =
      Parse({"update", kApName, "--file=c.pem", "--jwk_update_action=update",
             "--jwk_update_scope=ALL_PROJECTS"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->jwk_update_action, v1::JWK_UPDATE_ACTION_UPDATE);
  EXPECT_EQ(c->jwk_update_scope, v1::ALL_PROJECTS);
  auto d = Parse(
      {"delete", kApName, "--jwk_delete_action=JWK_DELETE_ACTION_DELETE"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->jwk_delete_action, v1::JWK_DELETE_ACTION_DELETE);
  EXPECT_FALSE(Parse({"delete", kApName, "--jwk_delete_action=KEEP"}).ok());
  EXPECT_FALSE(
      Parse({"delete", kApName, "--jwk_delete_action=UNSPECIFIED"}).ok());
}

TEST(CommandLineTest, UpdateMaskAndEnabled) {
  auto c = Parse({"update", kLeName, "--update_mask=leegality.enabled, *"});
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(*c->update_mask, ElementsAre("leegality.enabled", "*"));
  EXPECT_FALSE(Parse({"update", kLeName, "--update_mask=,"}).ok());
  EXPECT_FALSE(Parse({"update", kLeName, "--enabled=yes"}).ok());
  EXPECT_EQ(Parse({"update", kLeName, "--enabled=TRUE"})->enabled, true);
}

TEST(CommandLineTest, GeneralErrors) {
  EXPECT_FALSE(Parse({}).ok());
  EXPECT_THAT(Parse({"show"}).status().message(), HasSubstr("unknown command"));
  EXPECT_THAT(Parse({"list"}).status().message(), HasSubstr("PARENT"));
  EXPECT_THAT(Parse({"get"}).status().message(), HasSubstr("NAME"));
  EXPECT_THAT(Parse({"get", kLeName, "extra"}).status().message(),
              HasSubstr("unexpected"));
  EXPECT_THAT(Parse({"get", kLeName, "--bogus=1"}).status().message(),
              HasSubstr("unknown flag --bogus"));
  EXPECT_THAT(Parse({"get", kLeName, "--timeout"}).status().message(),
              HasSubstr("needs a value"));
  EXPECT_THAT(
      Parse({"get", kLeName, "--address=a", "--address=b"}).status().message(),
      HasSubstr("more than once"));
  EXPECT_THAT(Parse({"get", "backends/le/certificates"}).status().message(),
              HasSubstr("NAME must be"));
  EXPECT_FALSE(Parse({"get", "backends//certificates/x"}).ok());
}

TEST(CommandLineTest, Help) {
  EXPECT_EQ(Parse({"help"})->verb, Verb::kHelp);
  EXPECT_EQ(Parse({"get", "--help"})->verb, Verb::kHelp);
  EXPECT_EQ(Parse({"-h"})->verb, Verb::kHelp);
  EXPECT_EQ(Parse({"--version"})->verb, Verb::kVersion);
  EXPECT_THAT(UsageText(), HasSubstr("certctl create PARENT"));
}

TEST(CommandLineTest, DoubleDashEndsFlags) {
  auto c = Parse({"get", "--", kLeName});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->target, kLeName);
}

}  // namespace
}  // namespace certbridge::cli

namespace certbridge::cli {
namespace {

TEST(CommandLineTlsTest, TlsFlagsAreGlobalAndPaired) {
  auto c = ParseCommandLine({"get", "backends/a/certificates/x",
                             "--tls_ca_file=/ca.pem", "--tls_cert_file=/c.pem",
                             "--tls_key_file=/c.key"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls_ca_file, "/ca.pem");
  EXPECT_EQ(c->tls_cert_file, "/c.pem");
  EXPECT_EQ(c->tls_key_file, "/c.key");
  EXPECT_FALSE(
      ParseCommandLine({"get", "backends/a/certificates/x",
                        "--tls_ca_file=/ca.pem", "--tls_cert_file=/c.pem"})
          .ok());
  EXPECT_FALSE(
      ParseCommandLine({"get", "backends/a/certificates/x",
                        "--tls_cert_file=/c.pem", "--tls_key_file=/c.key"})
          .ok());
}

}  // namespace
}  // namespace certbridge::cli
