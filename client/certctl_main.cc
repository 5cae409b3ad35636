// certctl: command-line client for certbridge.v1.CertificateService. Wiring
// only: parse argv, pick the address and channel credentials, run the command.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "client/command_line.h"
#include "client/commands.h"
#include "client/library/certificate_client.h"
#include "client/library/client_channel.h"
#include "grpcpp/security/credentials.h"

namespace {

// The seam for transport security: TLS flags (--tls, --ca_file, ...) will
// choose grpc::SslCredentials here. Until then the channel is plaintext, as
// the server's listener is.
std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Plaintext unless --tls_ca_file; mTLS with --tls_cert_file/--tls_key_file.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const certbridge::cli::Command& command) {
  if (!command.tls_ca_file) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadAll(*command.tls_ca_file);
  if (options.pem_root_certs.empty()) {
    return absl::InvalidArgumentError("cannot read --tls_ca_file " +
                                      *command.tls_ca_file);
  }
  if (command.tls_cert_file) {
    options.pem_cert_chain = ReadAll(*command.tls_cert_file);
    options.pem_private_key = ReadAll(*command.tls_key_file);
    if (options.pem_cert_chain.empty() || options.pem_private_key.empty()) {
      return absl::InvalidArgumentError(
          "cannot read --tls_cert_file / --tls_key_file");
    }
  }
  return grpc::SslCredentials(options);
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = certbridge::cli;
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto command = cli::ParseCommandLine(args);
  if (!command.ok()) {
    const std::string message(command.status().message());
    std::cerr << "certctl: " << message << "\n";
    if (message.find("certctl help") == std::string::npos) {
      std::cerr << "Run `certctl help` for usage.\n";
    }
    return cli::kExitLocalError;
  }
  if (command->verb == cli::Verb::kHelp ||
      command->verb == cli::Verb::kVersion ||
      command->verb == cli::Verb::kCompletion) {
    // Answered locally; the client is never called.
    const certbridge::CertificateClient unused(
        certbridge::CreateCertificateChannel(
            "unused:0", grpc::InsecureChannelCredentials()));
    return cli::RunCommand(*command, unused, cli::ProcessIo());
  }
  const std::string address =
      cli::ResolveAddress(*command, std::getenv(cli::kAddressEnvVar));
  auto credentials = MakeChannelCredentials(*command);
  if (!credentials.ok()) {
    std::cerr << "certctl: " << credentials.status().message() << "\n";
    return 2;
  }
  // The channel carries docs/grpc_service_config.json: UNAVAILABLE and
  // RESOURCE_EXHAUSTED are retried within --timeout, a create with its
  // request_id unchanged.
  const certbridge::CertificateClient client(
      certbridge::CreateCertificateChannel(address, *credentials));
  return cli::RunCommand(*command, client, cli::ProcessIo());
}
