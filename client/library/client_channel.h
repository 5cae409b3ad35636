// Channels to certbridge with the retry policy every client should use.
//
// The policy is docs/grpc_service_config.json (A6 retryPolicy for every
// method of certbridge.v1.CertificateService), compiled into the library
// from that file at build time so the shipped document and the library
// cannot drift. A service config belongs to the channel, not to a call: a
// CertificateClient built on a channel made elsewhere retries only if that
// channel was given the config (DefaultChannelArguments() does it).
#ifndef CERTBRIDGE_CLIENT_LIBRARY_CLIENT_CHANNEL_H_
#define CERTBRIDGE_CLIENT_LIBRARY_CLIENT_CHANNEL_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace certbridge {

/// The contents of docs/grpc_service_config.json.
absl::string_view DefaultServiceConfigJson();

/// The largest request gRPC buffers to be able to retry it: the server's
/// receive limit (a 5 MiB certificate file plus 1 MiB). gRPC's default
/// (256 KiB) would leave most certificate uploads without retries; a larger
/// request is refused by the server anyway, and is then not re-sent.
inline constexpr int kRetryBufferBytes = 6 * 1024 * 1024;

/// Channel arguments carrying the default service config (used when the
/// name resolver supplies none) and a retry buffer of kRetryBufferBytes.
grpc::ChannelArguments DefaultChannelArguments();

/// A channel to `target` ("host:port", "dns:///name:port", ...) with
/// `args`, which should start from DefaultChannelArguments().
std::shared_ptr<grpc::Channel> CreateCertificateChannel(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const grpc::ChannelArguments& args = DefaultChannelArguments());

}  // namespace certbridge

#endif  // CERTBRIDGE_CLIENT_LIBRARY_CLIENT_CHANNEL_H_
