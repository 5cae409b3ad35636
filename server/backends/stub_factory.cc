#include "server/backends/stub_factory.h"

#include <utility>

#include "server/backends/apinizer/apinizer_stub.h"
#include "server/backends/leegality/leegality_stub.h"

namespace certbridge {

std::unique_ptr<BackendConnection> MakeBackendConnection(
    const BackendConfig& config, HttpTransport& transport,
    IdempotencyStore* idempotency, std::shared_ptr<TokenSource> tokens,
    std::shared_ptr<BackendObserver> observer) {
  std::unique_ptr<BackendStub> stub;
  switch (config.kind) {
    case BackendKind::kLeegality:
      stub = std::make_unique<LeegalityStub>(config, transport,
                                             std::move(tokens), observer);
      break;
    case BackendKind::kApinizer:
      stub = std::make_unique<ApinizerStub>(config, transport,
                                            std::move(tokens), observer);
      break;
  }
  return std::make_unique<BackendConnection>(config, std::move(stub), transport,
                                             idempotency, std::move(observer));
}

absl::StatusOr<std::unique_ptr<BackendConnection>> MakeBackendConnection(
    const BackendConfig& config, HttpTransport& transport,
    IdempotencyStore* idempotency, std::shared_ptr<BackendObserver> observer) {
  if (observer == nullptr) {
    observer = std::shared_ptr<BackendObserver>(&BackendObserver::Noop(),
                                                [](BackendObserver*) {});
  }
  auto tokens = MakeTokenSource(config, transport, observer);
  if (!tokens.ok()) return tokens.status();
  return MakeBackendConnection(config, transport, idempotency,
                               *std::move(tokens), std::move(observer));
}

}  // namespace certbridge
