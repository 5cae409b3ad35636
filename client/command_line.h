// Parses certctl's argv into a Command: which verb, which resource, and the
// flags given. Pure (no I/O, no environment): reading files, environment
// variables and the terminal happens in commands.cc.
//
// Every flag takes a value, as `--flag=value` or `--flag value`; global flags
// may come before or after the verb. There is deliberately no `--passkey=`
// flag: argv is visible to every user through `ps` and lands in shell history.
#ifndef CERTBRIDGE_CLIENT_COMMAND_LINE_H_
#define CERTBRIDGE_CLIENT_COMMAND_LINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "client/formats.h"

namespace certbridge::cli {

inline constexpr char kDefaultAddress[] = "127.0.0.1:50051";
inline constexpr char kAddressEnvVar[] = "CERTCTL_ADDRESS";

enum class Verb {
  kHelp,
  kVersion,
  kCompletion,  // `certctl completion bash`
  kGet,
  kCreate,
  kUpdate,
  kDelete
};

/// Which backend kind a resource name (or parent) has, decided by its shape:
///   Leegality: backends/{b}                 backends/{b}/certificates/{id}
///   Apinizer:  backends/{b}/projects/{p}    .../projects/{p}/certificates/{n}
enum class ResourceKind { kLeegality, kApinizer };

struct Command {
  Verb verb = Verb::kHelp;
  /// NAME (get, update, delete) or PARENT (create). Empty for help.
  std::string target;
  ResourceKind kind = ResourceKind::kLeegality;

  // Global flags.
  std::optional<std::string> address;  // unset: CERTCTL_ADDRESS or default
  /// --output; unset: table on a terminal, JSON otherwise.
  std::optional<OutputFormat> output;
  absl::Duration timeout = absl::Seconds(30);
  std::string x_request_id;  // sent as `x-request-id` metadata when set
  // TLS to the server: CA to trust, and an optional client certificate.
  std::optional<std::string> tls_ca_file;
  std::optional<std::string> tls_cert_file;
  std::optional<std::string> tls_key_file;

  // Passkey sources (Leegality, with --file). At most one is set; neither
  // means "prompt on the terminal".
  std::optional<std::string> passkey_file;
  std::optional<std::string> passkey_env;

  // Certificate fields. Unset optionals were not given on the command line.
  std::optional<std::string> file;       // path of the PKCS#12 / PEM file
  std::optional<std::string> file_name;  // Leegality upload file name
  std::optional<std::string> department_id;
  std::optional<bool> enabled;
  std::optional<std::string> description;
  std::optional<std::string> alias;
  std::optional<std::vector<std::string>> environments;

  // Create only.
  std::string certificate_id;
  std::string request_id;

  // Update only. Unset: derived from the fields given (request_builder.h).
  std::optional<std::vector<std::string>> update_mask;
  v1::JwkUpdateAction jwk_update_action = v1::JWK_UPDATE_ACTION_UNSPECIFIED;
  v1::JwkUpdateScope jwk_update_scope = v1::JWK_UPDATE_SCOPE_UNSPECIFIED;

  // Delete only.
  v1::JwkDeleteAction jwk_delete_action = v1::JWK_DELETE_ACTION_UNSPECIFIED;
};

/// Parses `args` (argv without the program name). Errors are
/// INVALID_ARGUMENT with a message fit to print after "certctl: ".
absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args);

/// The kind of a certificate name, or INVALID_ARGUMENT when it has neither
/// shape.
absl::StatusOr<ResourceKind> KindOfName(absl::string_view name);
/// The kind of a create parent, or INVALID_ARGUMENT.
absl::StatusOr<ResourceKind> KindOfParent(absl::string_view parent);

/// --address, else the CERTCTL_ADDRESS value (`env_address`, may be null or
/// empty), else kDefaultAddress.
std::string ResolveAddress(const Command& command, const char* env_address);

/// True when the command uploads a Leegality PKCS#12 and so needs a passkey.
bool NeedsPasskey(const Command& command);

/// The text `certctl help` prints.
std::string UsageText();

/// The script `certctl completion bash` prints.
std::string BashCompletion();

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_COMMAND_LINE_H_
