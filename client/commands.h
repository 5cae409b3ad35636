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

/// certctl's exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcFailed = 1;
inline constexpr int kExitLocalError = 2;  // usage, unreadable file, ...

struct CommandIo {
  std::ostream* out;  // JSON results
  std::ostream* err;  // errors and warnings
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
