#include "server/backends/token_source.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "server/backends/client_credentials_token_source.h"
#include "server/common/log.h"
#include "server/common/quote.h"

namespace certbridge {
namespace {

class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
  void GetToken(CallContext&, TokenCallback done) override { done(token_); }
  void Invalidate(const std::string&) override {}

 private:
  const std::string token_;
};

// A token goes into an HTTP header: anything but visible ASCII (a CR/LF
// above all) would corrupt or inject headers.
absl::Status CheckToken(absl::string_view token, absl::string_view what) {
  // An empty header would be sent on every call and answered 401.
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " holds no token (empty or only whitespace)"));
  }
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat(what,
                       " holds characters a header cannot carry (only visible "
                       "ASCII is allowed)"));
    }
  }
  return absl::OkStatus();
}

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

// Identity of a file's current content: Kubernetes rotates a mounted Secret
// by swapping a symlink, which changes the inode; an in-place write changes
// mtime or size.
struct FileVersion {
  ino_t inode = 0;
  timespec mtime{};
  off_t size = 0;
  bool operator==(const FileVersion& o) const {
    return inode == o.inode && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && size == o.size;
  }
};

std::optional<FileVersion> VersionOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileVersion{st.st_ino, st.st_mtim, st.st_size};
}

// A token read from a file and re-read when the file changes, so a rotated
// Secret takes effect without a restart. The file is checked at most once
// per `check_interval`, and at once after a 401.
class FileTokenSource final : public TokenSource {
 public:
  FileTokenSource(std::string backend, std::string path, std::string token,
                  FileVersion version, absl::Duration check_interval)
      : backend_(std::move(backend)),
        path_(std::move(path)),
        check_interval_(check_interval),
        token_(std::move(token)),
        version_(version),
        next_check_(absl::Now() + check_interval) {}

  void GetToken(CallContext&, TokenCallback done) override {
    std::string token;
    {
      absl::MutexLock lock(&mu_);
      if (absl::Now() >= next_check_) ReloadLocked();
      token = token_;
    }
    done(std::move(token));
  }

  void Invalidate(const std::string&) override {
    absl::MutexLock lock(&mu_);
    ReloadLocked();
  }

 private:
  void ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    next_check_ = absl::Now() + check_interval_;
    auto version = VersionOf(path_);
    if (!version || *version == version_) return;
    auto token = ReadTokenFile(path_);
    if (token.ok()) {
      if (auto s = CheckToken(*token, path_); !s.ok()) token = s;
    }
    if (!token.ok()) {
      // Mid-rotation the file can be briefly missing or empty: keep the
      // last good token and look again next time.
      LogWarning("token file unreadable; keeping the previous token",
                 {{"backend", backend_}, {"file", path_}});
      return;
    }
    token_ = *std::move(token);
    version_ = *version;
    LogInfo("token file changed; using the new token",
            {{"backend", backend_}, {"file", path_}});
  }

  const std::string backend_;
  const std::string path_;
  const absl::Duration check_interval_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  FileVersion version_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::string> ReadSecret(const CredentialsConfig& c) {
  if (!c.client_secret_file.empty()) {
    auto secret = ReadTokenFile(c.client_secret_file);
    if (!secret.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("auth.client_credentials.client_secret_file: ",
                       secret.status().message()));
    }
    return secret;
  }
  const char* value = std::getenv(c.client_secret_env.c_str());
  const absl::string_view secret = value == nullptr
                                       ? absl::string_view()
                                       : absl::StripAsciiWhitespace(value);
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("auth.client_credentials.client_secret_env: environment "
                     "variable ",
                     c.client_secret_env, " is not set or empty"));
  }
  return std::string(secret);
}

// A secret file any user on the host can read is worth a line at start-up
// (Kubernetes' default Secret mode 0644 is one: set defaultMode 0400).
void WarnIfWorldReadable(const std::string& backend, const std::string& path,
                         absl::string_view what) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
    LogWarning(absl::StrCat(what, " is readable by every user on this host"),
               {{"backend", backend}, {"file", path}});
  }
}

bool IsPrintableUtf8(absl::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return IsValidUtf8(text);
}

}  // namespace

std::shared_ptr<TokenSource> MakeFileTokenSource(
    const std::string& backend, const std::string& path,
    absl::Duration check_interval) {
  auto token = ReadTokenFile(path);
  auto version = VersionOf(path);
  if (!token.ok() || !version || !CheckToken(*token, path).ok()) return nullptr;
  return std::make_shared<FileTokenSource>(backend, path, *std::move(token),
                                           *version, check_interval);
}

std::shared_ptr<TokenSource> MakeStaticTokenSource(std::string token) {
  return std::make_shared<StaticTokenSource>(std::move(token));
}

absl::StatusOr<std::shared_ptr<TokenSource>> MakeTokenSource(
    const BackendConfig& config, const TokenProtocol& protocol,
    HttpTransport& transport, std::shared_ptr<BackendObserver> observer) {
  const CredentialsConfig& c = config.credentials;
  switch (c.source) {
    case CredentialsConfig::Source::kFile: {
      auto token = ReadTokenFile(c.token_file);
      if (token.ok()) {
        if (auto s = CheckToken(*token, c.token_file); !s.ok()) token = s;
      }
      if (!token.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("backend ", config.name,
                         ": auth.token_file: ", token.status().message()));
      }
      WarnIfWorldReadable(config.name, c.token_file, "the token file");
      auto source =
          MakeFileTokenSource(config.name, c.token_file, absl::Seconds(1));
      if (source == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("backend ", config.name,
                         ": auth.token_file: cannot read ", c.token_file));
      }
      return source;
    }
    case CredentialsConfig::Source::kClientCredentials: {
      if (!c.client_secret_file.empty()) {
        WarnIfWorldReadable(config.name, c.client_secret_file,
                            "the client secret file");
      }
      auto secret = ReadSecret(c);
      if (secret.ok() && !IsPrintableUtf8(*secret)) {
        // Token requests may be JSON, which cannot carry other bytes; a
        // control character is a mangled file either way.
        secret = absl::InvalidArgumentError(
            "auth.client_credentials: the client secret must be UTF-8 text "
            "without control characters");
      }
      if (!secret.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "backend ", config.name, ": ", secret.status().message()));
      }
      return std::shared_ptr<TokenSource>(
          std::make_shared<ClientCredentialsTokenSource>(
              config, protocol, *std::move(secret), transport,
              std::move(observer), SystemClock::Get()));
    }
    case CredentialsConfig::Source::kEnv: {
      const char* value = std::getenv(c.token_env.c_str());
      if (value == nullptr || *value == '\0') {
        return absl::InvalidArgumentError(
            absl::StrCat("backend ", config.name, ": auth.token_env: ",
                         "environment variable ", c.token_env, " is not set"));
      }
      std::string token(absl::StripAsciiWhitespace(value));
      if (auto s = CheckToken(
              token, absl::StrCat("environment variable ", c.token_env));
          !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "backend ", config.name, ": auth.token_env: ", s.message()));
      }
      return MakeStaticTokenSource(std::move(token));
    }
    case CredentialsConfig::Source::kNone:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("backend ", config.name, ": no credentials configured"));
}

}  // namespace certbridge
