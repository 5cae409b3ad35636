#include "server/common/grpc_codes.h"

namespace certbridge {

const char* GrpcCodeName(int code) {
  static constexpr const char* kNames[] = {"OK",
                                           "Canceled",
                                           "Unknown",
                                           "InvalidArgument",
                                           "DeadlineExceeded",
                                           "NotFound",
                                           "AlreadyExists",
                                           "PermissionDenied",
                                           "ResourceExhausted",
                                           "FailedPrecondition",
                                           "Aborted",
                                           "OutOfRange",
                                           "Unimplemented",
                                           "Internal",
                                           "Unavailable",
                                           "DataLoss",
                                           "Unauthenticated"};
  if (code < 0 ||
      code >= static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) {
    return "Unknown";
  }
  return kNames[code];
}

}  // namespace certbridge
