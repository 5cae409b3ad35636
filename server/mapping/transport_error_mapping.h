// The errors.md "Transport and local failures" table for failures to
// exchange at all (libcurl errors), deadline and cancellation included.
#ifndef CERTBRIDGE_SERVER_MAPPING_TRANSPORT_ERROR_MAPPING_H_
#define CERTBRIDGE_SERVER_MAPPING_TRANSPORT_ERROR_MAPPING_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/http/http_message.h"

namespace certbridge {

/// `deadline_passed`: the caller's deadline is over, which turns timeouts
/// and cancellations into DEADLINE_EXCEEDED.
absl::Status MapTransportError(const TransportError& error,
                               absl::string_view backend, bool deadline_passed);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_MAPPING_TRANSPORT_ERROR_MAPPING_H_
