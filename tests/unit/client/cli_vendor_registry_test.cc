// The registry tells vendors apart by shape alone, and a vendor that exists
// only here ("example") goes through the parser, the request builder and
// the help without a line of the core naming it.
#include "client/vendors/cli_vendor_registry.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/command_line.h"
#include "client/request_builder.h"
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
constexpr char kExName[] = "examples/e1/certificates/c1";

// A certificate is its name and display name; create takes no file.
class ExampleCli final : public CliVendor {
 public:
  absl::string_view kind() const override { return "example"; }
  absl::string_view display_name() const override { return "Example"; }
  absl::string_view name_pattern() const override {
    return "examples/{example}/certificates/{id}";
  }
  absl::string_view parent_pattern() const override {
    return "examples/{example}";
  }
  std::set<std::string> FlagsFor(Verb verb) const override {
    switch (verb) {
      case Verb::kCreate:
        return {"certificate_id", "description", "request_id"};
      case Verb::kUpdate:
        return {"description", "update_mask"};
      default:
        return {};
    }
  }
  absl::string_view create_file() const override { return ""; }
  absl::Status CheckCommand(const Command& command) const override {
    if (command.verb == Verb::kCreate && command.certificate_id.empty()) {
      return absl::InvalidArgumentError("an example needs --certificate_id");
    }
    return absl::OkStatus();
  }
  std::vector<FieldFlag> FieldFlags(const Command& command) const override {
    return {{"--description", "display_name", command.description.has_value()}};
  }
  absl::Status FillCertificate(const Command& command, const LocalInputs&,
                               v1::Certificate& cert) const override {
    if (command.description) cert.set_display_name(*command.description);
    return absl::OkStatus();
  }
  void Redact(v1::Certificate&) const override {}
  CliVendorHelp Help() const override {
    CliVendorHelp help;
    help.product = "Example Certs";
    help.flags =
        "Example (create / update):\n"
        "  --description=TEXT    the display name\n";
    help.mask_example = "display_name";
    return help;
  }
};

// The vendors certctl ships, and the example.
CliVendorRegistry WithExample() {
  CliVendorRegistry registry = BuiltinCliVendors();
  EXPECT_TRUE(registry.Register(std::make_shared<ExampleCli>()).ok());
  return registry;
}

TEST(CliVendorRegistryTest, FindsEachShippedVendorByShape) {
  const CliVendorRegistry& vendors = BuiltinCliVendors();
  auto le = vendors.VendorOfName(kLeName);
  ASSERT_TRUE(le.ok()) << le.status();
  EXPECT_EQ((*le)->kind(), "leegality");
  auto ap = vendors.VendorOfName(kApName);
  ASSERT_TRUE(ap.ok()) << ap.status();
  EXPECT_EQ((*ap)->kind(), "apinizer");
  EXPECT_EQ(*vendors.VendorOfParent("backends/le"), *le);
  EXPECT_EQ(*vendors.VendorOfParent("backends/ap/projects/p1"), *ap);
  // A name is not a parent, nor the other way round.
  EXPECT_FALSE(vendors.VendorOfParent(kLeName).ok());
  EXPECT_FALSE(vendors.VendorOfName("backends/le").ok());
}

TEST(CliVendorRegistryTest, UnknownShapesAreRejectedWithTheShapesListed) {
  const CliVendorRegistry& vendors = BuiltinCliVendors();
  const std::string name_message =
      "NAME must be backends/{backend}/certificates/{id} (Leegality) or "
      "backends/{backend}/projects/{project}/certificates/{name} (Apinizer); "
      "got \"backends/le/certificates\"";
  auto name = vendors.VendorOfName("backends/le/certificates");
  EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(name.status().message(), name_message);
  EXPECT_EQ(
      ParseCommandLine({"get", "backends/le/certificates"}).status().message(),
      name_message);
  // Empty segments match no placeholder.
  EXPECT_FALSE(vendors.VendorOfName("backends//certificates/x").ok());
  EXPECT_FALSE(vendors.VendorOfName("").ok());

  const std::string parent_message =
      "PARENT must be backends/{backend} (Leegality) or "
      "backends/{backend}/projects/{project} (Apinizer); got \"x/y\"";
  auto parent = vendors.VendorOfParent("x/y");
  EXPECT_EQ(parent.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parent.status().message(), parent_message);
  EXPECT_EQ(
      ParseCommandLine({"create", "x/y", "--file=a.p12"}).status().message(),
      parent_message);
}

TEST(CliVendorRegistryTest, RejectsATakenKindAndAnAmbiguousShape) {
  CliVendorRegistry registry = WithExample();
  EXPECT_EQ(registry.Register(std::make_shared<ExampleCli>()).code(),
            absl::StatusCode::kAlreadyExists);

  // Its names could be Leegality's: no shape would tell them apart.
  class Lookalike final : public CliVendor {
   public:
    absl::string_view kind() const override { return "lookalike"; }
    absl::string_view display_name() const override { return "Lookalike"; }
    absl::string_view name_pattern() const override {
      return "backends/{b}/{collection}/{id}";
    }
    absl::string_view parent_pattern() const override { return "looks/{l}"; }
    std::set<std::string> FlagsFor(Verb) const override { return {}; }
    absl::string_view create_file() const override { return ""; }
    std::vector<FieldFlag> FieldFlags(const Command&) const override {
      return {};
    }
    absl::Status FillCertificate(const Command&, const LocalInputs&,
                                 v1::Certificate&) const override {
      return absl::OkStatus();
    }
    void Redact(v1::Certificate&) const override {}
    CliVendorHelp Help() const override { return {}; }
  };
  const absl::Status s = registry.Register(std::make_shared<Lookalike>());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("overlaps"));
  EXPECT_EQ(registry.vendors().size(), 3U);
}

TEST(CliVendorRegistryTest, AThirdVendorParsesAndBuildsRequests) {
  const CliVendorRegistry vendors = WithExample();

  auto create =
      ParseCommandLine({"create", "examples/e1", "--certificate_id=c1",
                        "--description=Hello", "--request_id=r1"},
                       vendors);
  ASSERT_TRUE(create.ok()) << create.status();
  EXPECT_EQ(create->vendor->kind(), "example");
  EXPECT_FALSE(NeedsPasskey(*create));
  auto request = BuildCreateRequest(*create, {});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->parent(), "examples/e1");
  EXPECT_EQ(request->certificate_id(), "c1");
  EXPECT_EQ(request->request_id(), "r1");
  EXPECT_EQ(request->certificate().display_name(), "Hello");
  EXPECT_EQ(request->certificate().backend_certificate_case(),
            v1::Certificate::BACKEND_CERTIFICATE_NOT_SET);

  auto update =
      ParseCommandLine({"update", kExName, "--description=New"}, vendors);
  ASSERT_TRUE(update.ok()) << update.status();
  auto update_request = BuildUpdateRequest(*update, {});
  ASSERT_TRUE(update_request.ok()) << update_request.status();
  EXPECT_EQ(update_request->certificate().name(), kExName);
  EXPECT_THAT(update_request->update_mask().paths(),
              ElementsAre("display_name"));

  auto del = ParseCommandLine({"delete", kExName}, vendors);
  ASSERT_TRUE(del.ok()) << del.status();
  EXPECT_EQ(BuildDeleteRequest(*del).name(), kExName);

  // The vendor's rules, through the core's messages.
  EXPECT_EQ(
      ParseCommandLine({"create", "examples/e1"}, vendors).status().message(),
      "an example needs --certificate_id");
  EXPECT_EQ(ParseCommandLine({"update", kExName, "--alias=a"}, vendors)
                .status()
                .message(),
            "--alias does not apply to `certctl update` on a Example resource "
            "(examples/e1/certificates/c1)");
  auto empty = ParseCommandLine({"update", kExName}, vendors);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(BuildUpdateRequest(*empty, {}).status().message(),
            "nothing to update: give --description (or --update_mask)");
  EXPECT_EQ(ParseCommandLine({"get", "nowhere"}, vendors).status().message(),
            "NAME must be backends/{backend}/certificates/{id} (Leegality), "
            "backends/{backend}/projects/{project}/certificates/{name} "
            "(Apinizer) or examples/{example}/certificates/{id} (Example); "
            "got \"nowhere\"");

  // The shipped vendors are still there; the shipped registry is unchanged.
  EXPECT_EQ(ParseCommandLine({"get", kApName}, vendors)->vendor->kind(),
            "apinizer");
  EXPECT_FALSE(ParseCommandLine({"get", kExName}).ok());
}

TEST(CliVendorRegistryTest, HelpIsAssembledFromTheVendors) {
  EXPECT_THAT(
      UsageText(),
      HasSubstr("\n\nNAME is backends/{backend}/certificates/{id} (Leegality "
                "SignStation) or\n"
                "backends/{backend}/projects/{project}/certificates/{name} "
                "(Apinizer API Ops).\n"
                "PARENT is backends/{backend} (Leegality) or "
                "backends/{backend}/projects/{project}\n"
                "(Apinizer). The shape decides which flags apply.\n\n"));
  EXPECT_THAT(UsageText(),
              HasSubstr("  9  the call succeeded but an Apinizer "
                        "(un)deployment failed in some\n"
                        "     environment (see the warning on stderr)\n"));

  const std::string help = UsageText(WithExample());
  EXPECT_THAT(help, HasSubstr("examples/{example}/certificates/{id} (Example "
                              "Certs)."));
  EXPECT_THAT(help, HasSubstr("\n\nExample (create / update):\n"
                              "  --description=TEXT    the display name\n\n"));
  EXPECT_THAT(help, HasSubstr("display_name, or *."));
  EXPECT_THAT(UsageText(), Not(HasSubstr("Example")));
}

}  // namespace
}  // namespace certbridge::cli
