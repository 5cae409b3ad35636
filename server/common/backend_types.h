// Small closed sets shared by every layer: which vendor a backend instance
// speaks, and which certificate operation a call performs. Metrics label
// values and retry decisions key on these.
#ifndef CERTBRIDGE_SERVER_COMMON_BACKEND_TYPES_H_
#define CERTBRIDGE_SERVER_COMMON_BACKEND_TYPES_H_

#include "absl/strings/string_view.h"

namespace certbridge {

enum class BackendKind { kLeegality, kApinizer };

enum class Operation { kCreate, kGet, kUpdate, kDelete };

/// "leegality" / "apinizer" (configuration spelling).
absl::string_view BackendKindName(BackendKind kind);

/// "create" / "get" / "update" / "delete" (metric label spelling).
absl::string_view OperationName(Operation op);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_BACKEND_TYPES_H_
