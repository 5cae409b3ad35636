// AIP-154 etags for certificates: a digest of everything certbridge read
// about a certificate (plus, where a vendor returns the certificate's
// content, that content, which is not in the resource), so any change a
// vendor reports changes the etag.
#ifndef CERTBRIDGE_SERVER_BACKENDS_ETAG_H_
#define CERTBRIDGE_SERVER_BACKENDS_ETAG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "certbridge/v1/certificate_service.pb.h"

namespace certbridge {

/// Sets `cert`'s etag from its other fields and `content`.
void SetEtag(v1::Certificate& cert, absl::string_view content = "");

/// OK when `wanted` is empty or equals `current`'s etag; else ABORTED /
/// CONCURRENT_MODIFICATION naming `backend`.
absl::Status CheckEtag(absl::string_view wanted, const v1::Certificate& current,
                       absl::string_view backend);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_ETAG_H_
