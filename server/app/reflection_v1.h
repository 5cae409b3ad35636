// grpc.reflection.v1.ServerReflection, which gRPC 1.51 does not serve (only
// the deprecated v1alpha, which current tools -- grpcurl, Postman, Evans --
// try second or not at all). Answers from the descriptors compiled into
// this binary, like gRPC's own v1alpha service.
#ifndef CERTBRIDGE_SERVER_APP_REFLECTION_V1_H_
#define CERTBRIDGE_SERVER_APP_REFLECTION_V1_H_

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace certbridge {

class ReflectionV1 final
    : public grpc::reflection::v1::ServerReflection::Service {
 public:
  /// `services`: fully qualified names list_services reports.
  explicit ReflectionV1(std::vector<std::string> services);

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>*
          stream) override;

 private:
  const std::vector<std::string> services_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_APP_REFLECTION_V1_H_
