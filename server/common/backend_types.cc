#include "server/common/backend_types.h"

namespace certbridge {

absl::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kCreate:
      return "create";
    case Operation::kGet:
      return "get";
    case Operation::kUpdate:
      return "update";
    case Operation::kDelete:
      return "delete";
    case Operation::kList:
      return "list";
  }
  return "unknown";
}

}  // namespace certbridge
