#include "client/passkey_source.h"

#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certbridge::cli {
namespace {

using ::testing::HasSubstr;

std::string WriteTemp(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Prompter FailingPrompt() {
  return [](absl::string_view) -> absl::StatusOr<std::string> {
    ADD_FAILURE() << "unexpected prompt";
    return absl::InternalError("prompted");
  };
}

TEST(PasskeySourceTest, FileStripsOneTrailingNewline) {
  EXPECT_EQ(*ReadPasskeyFile(WriteTemp("pk1", "secret\n")), "secret");
  EXPECT_EQ(*ReadPasskeyFile(WriteTemp("pk2", "secret\r\n")), "secret");
  EXPECT_EQ(*ReadPasskeyFile(WriteTemp("pk3", "secret\n\n")), "secret\n");
  EXPECT_EQ(*ReadPasskeyFile(WriteTemp("pk4", " sp ace ")), " sp ace ");
  EXPECT_EQ(*ReadPasskeyFile(WriteTemp("pk5", "")), "");
}

TEST(PasskeySourceTest, MissingFileNamesPath) {
  auto pk = ReadPasskeyFile("/nonexistent/certctl-pk");
  ASSERT_FALSE(pk.ok());
  EXPECT_EQ(pk.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(pk.status().message(), HasSubstr("/nonexistent/certctl-pk"));
}

TEST(PasskeySourceTest, Env) {
  auto env = FakeEnv({{"PK", "from-env"}, {"EMPTY", ""}});
  EXPECT_EQ(*ReadPasskeyEnv("PK", env), "from-env");
  EXPECT_EQ(*ReadPasskeyEnv("EMPTY", env), "");
  auto missing = ReadPasskeyEnv("NOPE", env);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("NOPE is not set"));
}

TEST(PasskeySourceTest, ResolveOrder) {
  const std::string file = WriteTemp("pk6", "from-file\n");
  auto env = FakeEnv({{"PK", "from-env"}});
  EXPECT_EQ(*ResolvePasskey(file, std::nullopt, env, FailingPrompt()),
            "from-file");
  EXPECT_EQ(
      *ResolvePasskey(std::nullopt, std::string("PK"), env, FailingPrompt()),
      "from-env");
  std::string shown;
  auto prompted = ResolvePasskey(
      std::nullopt, std::nullopt, env,
      [&shown](absl::string_view prompt) -> absl::StatusOr<std::string> {
        shown = std::string(prompt);
        return std::string("typed");
      });
  EXPECT_EQ(*prompted, "typed");
  EXPECT_THAT(shown, HasSubstr("passkey"));
}

TEST(PasskeySourceTest, LookupProcessEnv) {
  ::setenv("CERTCTL_TEST_PK", "v", 1);
  EXPECT_EQ(LookupProcessEnv("CERTCTL_TEST_PK"), "v");
  ::unsetenv("CERTCTL_TEST_PK");
  EXPECT_EQ(LookupProcessEnv("CERTCTL_TEST_PK"), std::nullopt);
}

}  // namespace
}  // namespace certbridge::cli
