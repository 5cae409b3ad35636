// What certctl was asked to do: the verb, the resource and the flags of one
// parsed command line (command_line.h makes it), and what certctl then read
// for it outside argv. Plain data shared by the core and the vendors.
#ifndef CERTBRIDGE_CLIENT_COMMAND_H_
#define CERTBRIDGE_CLIENT_COMMAND_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "client/formats.h"

namespace certbridge::cli {

class CliVendor;

enum class Verb {
  kHelp,
  kVersion,
  kCompletion,  // `certctl completion bash`
  kGet,
  kCreate,
  kUpdate,
  kDelete,
  kList
};

struct Command {
  Verb verb = Verb::kHelp;
  /// NAME (get, update, delete) or PARENT (create, list). Empty for help.
  std::string target;
  /// The vendor whose shape `target` has; null when there is no target.
  /// Owned by the registry the command was parsed with, which outlives it.
  const CliVendor* vendor = nullptr;

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

  // Passkey sources for a PKCS#12 given with --file. At most one is set;
  // neither means "prompt on the terminal".
  std::optional<std::string> passkey_file;
  std::optional<std::string> passkey_env;

  // Certificate fields. Unset optionals were not given on the command line.
  std::optional<std::string> file;       // path of the PKCS#12 / PEM file
  std::optional<std::string> file_name;  // upload file name
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

  // List only.
  std::string filter;
  std::string order_by;
  std::string page_token;
  int page_size = 0;  // 0: the server's default
  /// Follow next_page_token to the end and print every page as one list.
  bool all = false;
};

/// What certctl read from outside argv.
struct LocalInputs {
  std::string file_bytes;              // contents of --file, if given
  std::optional<std::string> passkey;  // when NeedsPasskey(command)
};

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_COMMAND_H_
