// Inbound RPCs as they start and finish, for the metrics exporter.
#ifndef CERTBRIDGE_SERVER_SERVICE_RPC_OBSERVER_H_
#define CERTBRIDGE_SERVER_SERVICE_RPC_OBSERVER_H_

#include <grpcpp/support/status.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certbridge {

class RpcObserver {
 public:
  virtual ~RpcObserver() = default;
  /// `method` is the bare method name, e.g. "GetCertificate".
  virtual void OnStarted(absl::string_view /*method*/) {}
  virtual void OnHandled(absl::string_view /*method*/, grpc::StatusCode,
                         absl::Duration) {}

  static RpcObserver& Noop() {
    static RpcObserver noop;
    return noop;
  }
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_SERVICE_RPC_OBSERVER_H_
