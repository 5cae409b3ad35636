// certbridge's configuration as plain structs, loaded from one JSON file and
// validated once at start-up. Every error names the offending field, e.g.
// "backends[1].base_url: must start with http:// or https://".
#ifndef CERTBRIDGE_SERVER_CONFIG_SERVER_CONFIG_H_
#define CERTBRIDGE_SERVER_CONFIG_SERVER_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/backend_types.h"

namespace certbridge {

enum class AuthHeaderStyle {
  kXAuthToken,  // X-Auth-Token: <token> (Leegality's endpoint pages)
  kBearer,      // Authorization: Bearer <token>
};

struct CredentialsConfig {
  enum class Source { kNone, kFile, kEnv };
  Source source = Source::kNone;
  std::string token_file;  // kFile
  std::string token_env;   // kEnv
  AuthHeaderStyle header = AuthHeaderStyle::kXAuthToken;
};

struct BackendConfig {
  std::string name;
  BackendKind kind = BackendKind::kLeegality;
  /// Leegality: the documented server root, e.g. https://host/api (paths
  /// /api/v1/... are appended). Apinizer: https://host/apiops.
  std::string base_url;
  CredentialsConfig credentials;
  absl::Duration connect_timeout = absl::Seconds(5);
  /// Per HTTP attempt; the caller's deadline bounds it further.
  absl::Duration request_timeout = absl::Seconds(30);
  /// PEM CA bundle for HTTPS backends; empty = system store.
  std::string ca_file;
};

struct ServerConfig {
  std::string listen_address = "127.0.0.1:50051";
  /// Applied to calls that arrive without a deadline.
  absl::Duration default_deadline = absl::Seconds(60);
  std::string log_level = "info";
  std::vector<BackendConfig> backends;
};

/// Parses and validates a configuration document.
absl::StatusOr<ServerConfig> ParseServerConfig(absl::string_view json_text);

/// Reads `path` and parses it; errors name the file.
absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_CONFIG_SERVER_CONFIG_H_
