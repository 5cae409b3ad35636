// Which multipart parts a Leegality Update sends, decided in one place for
// validation (an Update that would send nothing is refused) and for the
// stub (which sends exactly these).
#ifndef CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_UPDATE_H_
#define CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_UPDATE_H_

#include "certbridge/v1/certificate_service.pb.h"
#include "server/backends/update_mask.h"

namespace certbridge {

struct LeegalityUploadParts {
  bool file = false;        // certificateFile + passkey
  bool department = false;  // departmentId
  bool enabled = false;     // enabled
  bool empty() const { return !file && !department && !enabled; }
};

/// "*" replaces what the request carries; named paths replace what they
/// name. SignStation keeps whatever is not sent (the file included).
inline LeegalityUploadParts LeegalityUpdateParts(
    const v1::UpdateCertificateRequest& request) {
  const auto& mask = request.update_mask();
  const v1::LeegalityCertificate& cert = request.certificate().leegality();
  LeegalityUploadParts parts;
  parts.file =
      MaskCovers(mask, "leegality.pkcs12_file") && !cert.pkcs12_file().empty();
  parts.department = MaskCovers(mask, "leegality.department_id") &&
                     !cert.department_id().empty();
  parts.enabled = MaskCovers(mask, "leegality.enabled") && cert.has_enabled();
  return parts;
}

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_UPDATE_H_
