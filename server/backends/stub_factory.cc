#include "server/backends/stub_factory.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/backends/logging_observer.h"

namespace certbridge {
absl::StatusOr<const Vendor*> ResolveVendor(const VendorRegistry& vendors,
                                            const BackendConfig& config,
                                            absl::string_view path) {
  const Vendor* vendor = vendors.Find(config.kind);
  if (vendor == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ".kind: \"", config.kind,
        "\" is not a backend kind; known kinds: ", vendors.KindList()));
  }
  if (auto s =
          vendor->CheckOptions(config.options, absl::StrCat(path, ".options"));
      !s.ok()) {
    return s;
  }
  return vendor;
}

std::unique_ptr<BackendConnection> MakeBackendConnection(
    const BackendConfig& config, const Vendor& vendor, HttpTransport& transport,
    IdempotencyStore* idempotency, std::shared_ptr<TokenSource> tokens,
    std::shared_ptr<BackendObserver> observer) {
  observer =
      std::make_shared<LoggingObserver>(config.name, std::move(observer));
  std::unique_ptr<BackendStub> stub =
      vendor.MakeStub(config, transport, std::move(tokens), observer);
  return std::make_unique<BackendConnection>(config, vendor, std::move(stub),
                                             transport, idempotency,
                                             std::move(observer));
}

absl::StatusOr<std::unique_ptr<BackendConnection>> MakeBackendConnection(
    const BackendConfig& config, const Vendor& vendor, HttpTransport& transport,
    IdempotencyStore* idempotency, std::shared_ptr<BackendObserver> observer) {
  observer =
      std::make_shared<LoggingObserver>(config.name, std::move(observer));
  auto tokens = MakeTokenSource(config, vendor, transport, observer);
  if (!tokens.ok()) return tokens.status();
  // The same logging observer for the tokens and the calls: the second
  // overload does not wrap again.
  std::unique_ptr<BackendStub> stub =
      vendor.MakeStub(config, transport, *std::move(tokens), observer);
  return std::make_unique<BackendConnection>(config, vendor, std::move(stub),
                                             transport, idempotency,
                                             std::move(observer));
}

}  // namespace certbridge
