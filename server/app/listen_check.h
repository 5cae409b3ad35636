// Turns "the library could not listen" into the reason an operator can act
// on. gRPC and civetweb only say that binding failed; trying the same bind
// ourselves recovers errno ("Address already in use", "Cannot assign
// requested address", "Permission denied").
#ifndef CERTBRIDGE_SERVER_APP_LISTEN_CHECK_H_
#define CERTBRIDGE_SERVER_APP_LISTEN_CHECK_H_

#include <string>

namespace certbridge {

/// Why a TCP listener on `address` (HOST:PORT, [V6]:PORT) cannot bind now,
/// or "" if it could.
std::string WhyCannotListen(const std::string& address);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_APP_LISTEN_CHECK_H_
