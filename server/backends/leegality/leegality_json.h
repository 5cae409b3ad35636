// Leegality SignStation bodies <-> certbridge types. Pure functions: every
// documented success shape (201 {data}, bare object, {code,message,data}),
// the error body {code, errors[{message,path,code}]} and the delete
// acknowledgement. Fuzzed and table-tested without sockets.
#ifndef CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_JSON_H_
#define CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_JSON_H_

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "server/mapping/http_status_mapping.h"

namespace certbridge {

/// The CertificateVO in `body`, converted. The resource name is built from
/// `backend` and the VO's id. Errors (INVALID_ARGUMENT) say what is wrong
/// with the body; the caller reports them as BACKEND_MALFORMED_RESPONSE.
absl::StatusOr<v1::Certificate> ParseLeegalityCertificate(
    absl::string_view body, absl::string_view backend);

/// The CertificateVOs of a list answer (expiring-soon: `{"data": [...]}`),
/// in the body's order. INVALID_ARGUMENT describes a malformed body;
/// OUT_OF_RANGE when it holds more than `max_items`,
/// checked before any entry is converted.
absl::StatusOr<std::vector<v1::Certificate>> ParseLeegalityCertificateList(
    absl::string_view body, absl::string_view backend, std::size_t max_items);

/// The delete acknowledgement: any JSON object (documented:
/// {"code":"LE_SS_002",...}) or an empty body.
absl::Status ParseLeegalityDeleteAck(absl::string_view body);

/// Best effort: fields missing from a non-JSON or odd error body stay empty.
BackendErrorBody ParseLeegalityError(absl::string_view body);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_LEEGALITY_LEEGALITY_JSON_H_
