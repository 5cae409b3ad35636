// Turns a BackendConfig into a ready BackendConnection: finds the vendor,
// fills in its defaults, reads credentials, builds the vendor's stub and
// wraps it in the connection's policies.
#ifndef CERTBRIDGE_SERVER_BACKENDS_STUB_FACTORY_H_
#define CERTBRIDGE_SERVER_BACKENDS_STUB_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/backends/backend_connection.h"
#include "server/backends/idempotency_store.h"
#include "server/backends/token_source.h"
#include "server/backends/vendor_registry.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"

namespace certbridge {

/// The vendor of `config.kind`, with its options checked. INVALID_ARGUMENT
/// naming `backends[i].kind` / `.options` (`path` = "backends[i]").
absl::StatusOr<const Vendor*> ResolveVendor(const VendorRegistry& vendors,
                                            const BackendConfig& config,
                                            absl::string_view path);

/// Reads credentials as configured. `vendor`, `transport` and `idempotency`
/// (may be null) must outlive the result.
absl::StatusOr<std::unique_ptr<BackendConnection>> MakeBackendConnection(
    const BackendConfig& config, const Vendor& vendor, HttpTransport& transport,
    IdempotencyStore* idempotency,
    std::shared_ptr<BackendObserver> observer = nullptr);

/// Same, with the token source supplied (tests).
std::unique_ptr<BackendConnection> MakeBackendConnection(
    const BackendConfig& config, const Vendor& vendor, HttpTransport& transport,
    IdempotencyStore* idempotency, std::shared_ptr<TokenSource> tokens,
    std::shared_ptr<BackendObserver> observer = nullptr);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_STUB_FACTORY_H_
