// Runs one parsed certctl command against a CertificateService stub: reads
// the local inputs, builds the request, makes the call and prints the result.
// Every outside dependency (stub, files, environment, terminal, streams) is
// passed in, so tests drive it with MockCertificateServiceStub and fakes.
#ifndef CERTBRIDGE_CLIENT_COMMANDS_H_
#define CERTBRIDGE_CLIENT_COMMANDS_H_

#include <functional>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "certbridge/v1/certificate_service.grpc.pb.h"
#include "client/command_line.h"
#include "client/passkey_source.h"

namespace certbridge::cli {

/// certctl's exit codes (UsageText lists them): scripts can tell "not
/// there" from "fix the request" from "try later" without parsing stderr.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcFailed = 1;   // any other failed call
inline constexpr int kExitLocalError = 2;  // usage, unreadable file, ...
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitBadRequest = 4;
inline constexpr int kExitConflict = 5;
inline constexpr int kExitDenied = 6;
inline constexpr int kExitRetryLater = 7;
inline constexpr int kExitServerFailure = 8;
inline constexpr int kExitDeploymentFailed = 9;

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

/// Runs `command` and returns the exit code.
int RunCommand(const Command& command,
               v1::CertificateService::StubInterface& stub,
               const CommandIo& io);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_COMMANDS_H_
