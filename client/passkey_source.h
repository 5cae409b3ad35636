// Where a PKCS#12 passkey comes from: a file (--passkey_file), an environment
// variable (--passkey_env), or a no-echo prompt on /dev/tty. Never argv: a
// command line is visible to every user through `ps`.
#ifndef CERTBRIDGE_CLIENT_PASSKEY_SOURCE_H_
#define CERTBRIDGE_CLIENT_PASSKEY_SOURCE_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certbridge::cli {

/// Looks an environment variable up; nullopt when unset.
using EnvLookup =
    std::function<std::optional<std::string>(const std::string& name)>;
/// Shows `prompt` and reads one line without echo.
using Prompter =
    std::function<absl::StatusOr<std::string>(absl::string_view prompt)>;

/// The file's contents with one trailing "\n" (or "\r\n") removed; other
/// whitespace is part of the passkey.
absl::StatusOr<std::string> ReadPasskeyFile(const std::string& path);

/// The variable's value; FAILED_PRECONDITION when it is unset.
absl::StatusOr<std::string> ReadPasskeyEnv(const std::string& name,
                                           const EnvLookup& lookup);

/// Reads a line from /dev/tty with echo off, restoring the terminal
/// afterwards (also on SIGINT/SIGTERM/SIGHUP). FAILED_PRECONDITION when there
/// is no terminal.
absl::StatusOr<std::string> PromptOnTerminal(absl::string_view prompt);

/// The passkey from the file, else the variable, else `prompt`.
absl::StatusOr<std::string> ResolvePasskey(
    const std::optional<std::string>& passkey_file,
    const std::optional<std::string>& passkey_env, const EnvLookup& lookup,
    const Prompter& prompt);

/// getenv-backed EnvLookup.
std::optional<std::string> LookupProcessEnv(const std::string& name);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_PASSKEY_SOURCE_H_
