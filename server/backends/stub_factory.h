// The only code that knows every backend kind: turns a BackendConfig into a
// ready BackendConnection (credentials, vendor stub, decorators).
#ifndef CERTBRIDGE_SERVER_BACKENDS_STUB_FACTORY_H_
#define CERTBRIDGE_SERVER_BACKENDS_STUB_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/backends/backend_connection.h"
#include "server/backends/idempotency_store.h"
#include "server/backends/token_source.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"

namespace certbridge {

/// Reads credentials as configured. `transport` and `idempotency` (may be
/// null) must outlive the result.
absl::StatusOr<std::unique_ptr<BackendConnection>> MakeBackendConnection(
    const BackendConfig& config, HttpTransport& transport,
    IdempotencyStore* idempotency,
    std::shared_ptr<BackendObserver> observer = nullptr);

/// Same, with the token source supplied (tests).
std::unique_ptr<BackendConnection> MakeBackendConnection(
    const BackendConfig& config, HttpTransport& transport,
    IdempotencyStore* idempotency, std::shared_ptr<TokenSource> tokens,
    std::shared_ptr<BackendObserver> observer = nullptr);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_STUB_FACTORY_H_
