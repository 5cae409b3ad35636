#include "client/library/client_channel.h"

#include "grpc/grpc.h"
#include "grpcpp/create_channel.h"

namespace certbridge {

grpc::ChannelArguments DefaultChannelArguments() {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(std::string(DefaultServiceConfigJson()));
  args.SetInt(GRPC_ARG_PER_RPC_RETRY_BUFFER_SIZE, kRetryBufferBytes);
  return args;
}

std::shared_ptr<grpc::Channel> CreateCertificateChannel(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const grpc::ChannelArguments& args) {
  return grpc::CreateCustomChannel(target, credentials, args);
}

}  // namespace certbridge
