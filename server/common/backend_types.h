// The closed set of certificate operations a call performs, shared by every
// layer: metric label values and retry decisions key on it. (Which vendor a
// backend speaks is an open set: server/backends/vendor.h.)
#ifndef CERTBRIDGE_SERVER_COMMON_BACKEND_TYPES_H_
#define CERTBRIDGE_SERVER_COMMON_BACKEND_TYPES_H_

#include "absl/strings/string_view.h"

namespace certbridge {

enum class Operation { kCreate, kGet, kUpdate, kDelete, kList };

/// "create" / "get" / "update" / "delete" / "list" (metric label spelling).
absl::string_view OperationName(Operation op);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_BACKEND_TYPES_H_
