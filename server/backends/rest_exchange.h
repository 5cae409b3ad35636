// One authenticated JSON-over-HTTP exchange with a vendor API, shared by
// every backend kind: adds the credential header, Accept and X-Request-ID,
// bounds the attempt by the caller's deadline, and turns every non-2xx
// response or transport failure into a mapped status. Vendor stubs only
// build requests and parse successful bodies.
//
// Every token it attaches becomes one of the call's secrets, so whatever
// path a vendor's echo of it takes (a 401 that cannot be retried, a
// message, a log line), it is redacted.
#ifndef CERTBRIDGE_SERVER_BACKENDS_REST_EXCHANGE_H_
#define CERTBRIDGE_SERVER_BACKENDS_REST_EXCHANGE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "server/backends/backend_observer.h"
#include "server/backends/call_context.h"
#include "server/backends/token_source.h"
#include "server/common/backend_types.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"
#include "server/mapping/http_status_mapping.h"

namespace certbridge {

/// `config` with `style` as its credential header unless the configuration
/// chose one: each vendor's stub applies its documented default.
BackendConfig WithDefaultAuthHeader(BackendConfig config,
                                    AuthHeaderStyle style);

class RestExchange {
 public:
  using ErrorParser = BackendErrorBody (*)(absl::string_view body);
  using ResponseHandler =
      absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)>;

  /// `config` and `transport` must outlive the exchange; `observer` may be
  /// null (nothing observed).
  RestExchange(const BackendConfig& config, HttpTransport& transport,
               std::shared_ptr<TokenSource> tokens, ErrorParser parse_error,
               std::shared_ptr<BackendObserver> observer = nullptr);

  /// Sends `request`; `done` gets the 2xx response or the mapped error.
  /// Vendor text in the error is redacted of the call's secrets.
  void Send(std::shared_ptr<CallContext> ctx, Operation op, HttpRequest request,
            ResponseHandler done);

  /// Maps an error the vendor reported in a body (e.g. a 200 whose body
  /// says FAILURE) as if it came with `http_status`.
  absl::Status MapBodyError(const CallContext& ctx, Operation op,
                            int http_status, BackendErrorBody body) const;

  const BackendConfig& config() const { return config_; }
  BackendObserver& observer() const { return *observer_; }

 private:
  // A 401 and the token it rejected.
  struct Rejection {
    std::string token;
    HttpResponse response;
  };
  void Attempt(std::shared_ptr<CallContext> ctx, Operation op,
               std::shared_ptr<const HttpRequest> base, ResponseHandler done,
               std::optional<Rejection> rejected);
  absl::Status MapResponse(const CallContext& ctx, Operation op,
                           const HttpResponse& response) const;

  const BackendConfig& config_;
  HttpTransport& transport_;
  const std::shared_ptr<TokenSource> tokens_;
  const ErrorParser parse_error_;
  const std::shared_ptr<BackendObserver> observer_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_REST_EXCHANGE_H_
