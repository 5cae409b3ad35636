#include "server/backends/token_source.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace certbridge {
namespace {

class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
  void GetToken(TokenCallback done) override { done(token_); }
  void Invalidate(const std::string&) override {}

 private:
  const std::string token_;
};

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  // Secret files usually end with a newline that is not part of the token.
  std::string token(absl::StripAsciiWhitespace(buffer.str()));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is empty"));
  }
  return token;
}

}  // namespace

std::shared_ptr<TokenSource> MakeStaticTokenSource(std::string token) {
  return std::make_shared<StaticTokenSource>(std::move(token));
}

absl::StatusOr<std::shared_ptr<TokenSource>> MakeTokenSource(
    const BackendConfig& config) {
  const CredentialsConfig& c = config.credentials;
  switch (c.source) {
    case CredentialsConfig::Source::kFile: {
      auto token = ReadTokenFile(c.token_file);
      if (!token.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("backend ", config.name,
                         ": auth.token_file: ", token.status().message()));
      }
      return MakeStaticTokenSource(*std::move(token));
    }
    case CredentialsConfig::Source::kEnv: {
      const char* value = std::getenv(c.token_env.c_str());
      if (value == nullptr || *value == '\0') {
        return absl::InvalidArgumentError(
            absl::StrCat("backend ", config.name, ": auth.token_env: ",
                         "environment variable ", c.token_env, " is not set"));
      }
      return MakeStaticTokenSource(
          std::string(absl::StripAsciiWhitespace(value)));
    }
    case CredentialsConfig::Source::kNone:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("backend ", config.name, ": no credentials configured"));
}

}  // namespace certbridge
