// certctl's exit codes (UsageText lists them): scripts can tell "not there"
// from "fix the request" from "try later" without parsing stderr.
#ifndef CERTBRIDGE_CLIENT_EXIT_CODES_H_
#define CERTBRIDGE_CLIENT_EXIT_CODES_H_

namespace certbridge::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcFailed = 1;   // any other failed call
inline constexpr int kExitLocalError = 2;  // usage, unreadable file, ...
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitBadRequest = 4;
inline constexpr int kExitConflict = 5;
inline constexpr int kExitDenied = 6;
inline constexpr int kExitRetryLater = 7;
inline constexpr int kExitServerFailure = 8;
/// The call succeeded, but a vendor reports that part of it did not (a
/// CliVendor's CallWarning says which).
inline constexpr int kExitDeploymentFailed = 9;

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_EXIT_CODES_H_
