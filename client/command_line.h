// Parses certctl's argv into a Command: which verb, which resource, and the
// flags given. Pure (no I/O, no environment): reading files, environment
// variables and the terminal happens in commands.cc.
//
// Every flag takes a value, as `--flag=value` or `--flag value`; global flags
// may come before or after the verb. There is deliberately no `--passkey=`
// flag: argv is visible to every user through `ps` and lands in shell history.
#ifndef CERTBRIDGE_CLIENT_COMMAND_LINE_H_
#define CERTBRIDGE_CLIENT_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/command.h"

namespace certbridge::cli {

class CliVendorRegistry;

inline constexpr char kDefaultAddress[] = "127.0.0.1:50051";
inline constexpr char kAddressEnvVar[] = "CERTCTL_ADDRESS";

/// Parses `args` (argv without the program name) for the vendors certctl
/// ships. Errors are INVALID_ARGUMENT with a message fit to print after
/// "certctl: ".
absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args);
/// The same for the vendors of `vendors`, which must outlive the command.
absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args,
                                         const CliVendorRegistry& vendors);

/// --address, else the CERTCTL_ADDRESS value (`env_address`, may be null or
/// empty), else kDefaultAddress.
std::string ResolveAddress(const Command& command, const char* env_address);

/// True when the command uploads a file that needs a passkey (its vendor
/// says which).
bool NeedsPasskey(const Command& command);

/// The text `certctl help` prints (usage_text.cc), with a section per
/// vendor certctl ships, or per vendor of `vendors`.
std::string UsageText();
std::string UsageText(const CliVendorRegistry& vendors);

/// The script `certctl completion bash` prints (usage_text.cc).
std::string BashCompletion();

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_COMMAND_LINE_H_
