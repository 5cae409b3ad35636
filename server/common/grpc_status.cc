#include "server/common/grpc_status.h"

#include <string>

#include "google/rpc/status.pb.h"
#include "server/common/errors.h"

namespace certbridge {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  absl::Status with_info = status;
  // Guarantees the "exactly one ErrorInfo" contract for statuses raised
  // without one (timers, cancellation).
  EnsureErrorInfo(with_info);
  google::rpc::Status proto;
  proto.set_code(static_cast<int>(status.code()));
  proto.set_message(std::string(status.message()));
  with_info.ForEachPayload(
      [&proto](absl::string_view url, const absl::Cord& payload) {
        auto* any = proto.add_details();
        any->set_type_url(std::string(url));
        any->set_value(std::string(payload));
      });
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()), proto.SerializeAsString());
}

}  // namespace certbridge
