// Runs one parsed certctl command through the client library
// (CertificateClient): reads the local inputs, builds the request, makes the
// call and prints the result. Every outside dependency (client or stub,
// files, environment, terminal, streams) is passed in, so tests drive it with
// MockCertificateServiceStub and fakes.
#ifndef CERTBRIDGE_CLIENT_COMMANDS_H_
#define CERTBRIDGE_CLIENT_COMMANDS_H_

#include <functional>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "certbridge/v1/certificate_service.grpc.pb.h"
#include "client/command_line.h"
#include "client/exit_codes.h"
#include "client/library/certificate_client.h"
#include "client/passkey_source.h"

namespace certbridge::cli {

/// The exit code for a failed call's status.
int ExitCodeFor(grpc::StatusCode code);

struct CommandIo {
  std::ostream* out;  // results
  std::ostream* err;  // errors and warnings
  /// Whether `out` is a terminal (the default output is then a table).
  bool out_is_terminal = false;
  /// A fresh request_id (UUID) for a create without one.
  std::function<std::string()> new_request_id;
  /// Reads --file (capped at the API's 5 MiB limit in production).
  std::function<absl::StatusOr<std::string>(const std::string& path)> read_file;
  EnvLookup env;
  Prompter prompt;
};

/// Production CommandIo over std::cout/std::cerr, the filesystem, getenv and
/// /dev/tty.
CommandIo ProcessIo();

/// Runs `command` and returns the exit code. Calls go through `client`,
/// whose channel carries the retry policy (CreateCertificateChannel).
int RunCommand(const Command& command, const CertificateClient& client,
               const CommandIo& io);

/// The same over `stub` (borrowed for the call; tests pass a mock).
int RunCommand(const Command& command,
               v1::CertificateService::StubInterface& stub,
               const CommandIo& io);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_COMMANDS_H_
