// What the policies need to know about a failure and callers never see:
// where it came from (our own checks, the vendor API, the vendor's token
// endpoint), the HTTP status if one came back, and whether the request can
// have reached the backend. Stored as an internal status payload that
// ToGrpcStatus never sends; retry, breaker and request_id decisions read
// it instead of guessing from reasons.
#ifndef CERTBRIDGE_SERVER_COMMON_FAILURE_H_
#define CERTBRIDGE_SERVER_COMMON_FAILURE_H_

#include <optional>

#include "absl/status/status.h"

namespace certbridge {

struct FailureFacts {
  enum class Source {
    kApi,            // the vendor's certificate API
    kTokenEndpoint,  // the vendor's token endpoint (the API was not called)
  };
  enum class Transport {
    kNone,             // an HTTP response came back: see http_status
    kNotSent,          // no request byte reached the backend
    kTlsVerification,  // the backend's certificate was refused
    kTimeout,          // timed out after the request may have been sent
    kReset,            // connection broken after the request may have left
    kOther,            // anything else; treated as possibly sent
  };
  Source source = Source::kApi;
  Transport transport = Transport::kNone;
  int http_status = 0;
};

void SetFailureFacts(absl::Status& status, const FailureFacts& facts);
/// Nothing for failures certbridge raised itself (validation, circuit
/// open, overload, cancellation, deadline).
std::optional<FailureFacts> GetFailureFacts(const absl::Status& status);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_FAILURE_H_
