// certctl: command-line client for certbridge.v1.CertificateService. Wiring
// only: parse argv, pick the address and channel credentials, run the command.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "certbridge/v1/certificate_service.grpc.pb.h"
#include "client/command_line.h"
#include "client/commands.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace {

// The seam for transport security: TLS flags (--tls, --ca_file, ...) will
// choose grpc::SslCredentials here. Until then the channel is plaintext, as
// the server's listener is.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(
    const certbridge::cli::Command& /*command*/) {
  return grpc::InsecureChannelCredentials();
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = certbridge::cli;
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto command = cli::ParseCommandLine(args);
  if (!command.ok()) {
    std::cerr << "certctl: " << command.status().message()
              << "\nRun `certctl help` for usage.\n";
    return cli::kExitLocalError;
  }
  if (command->verb == cli::Verb::kHelp) {
    std::cout << cli::UsageText();
    return cli::kExitOk;
  }
  const std::string address =
      cli::ResolveAddress(*command, std::getenv(cli::kAddressEnvVar));
  auto channel = grpc::CreateChannel(address, MakeChannelCredentials(*command));
  auto stub = certbridge::v1::CertificateService::NewStub(channel);
  return cli::RunCommand(*command, *stub, cli::ProcessIo());
}
