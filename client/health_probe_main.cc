// certbridge-health: a gRPC health probe (grpc.health.v1.Health/Check) for
// scripts, container smoke tests and exec probes where the kubelet's native
// grpc probe cannot be used (it speaks no TLS). Exit 0 when SERVING, 1 when
// not serving, unreachable, or on usage errors.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/app/build_info.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051", "Server address.");
ABSL_FLAG(std::string, service, "",
          "Service to check; empty checks the whole server.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(2), "RPC deadline.");
ABSL_FLAG(std::string, tls_ca_file, "", "Use TLS, trusting this CA (PEM).");
ABSL_FLAG(std::string, tls_cert_file, "", "Client certificate for mTLS.");
ABSL_FLAG(std::string, tls_key_file, "", "Client key for mTLS.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name to verify the server's certificate against (its DNS SAN), "
          "when --address is an IP such as 127.0.0.1.");

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::shared_ptr<grpc::ChannelCredentials> Credentials() {
  if (absl::GetFlag(FLAGS_tls_ca_file).empty()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadAll(absl::GetFlag(FLAGS_tls_ca_file));
  if (!absl::GetFlag(FLAGS_tls_cert_file).empty()) {
    options.pem_cert_chain = ReadAll(absl::GetFlag(FLAGS_tls_cert_file));
    options.pem_private_key = ReadAll(absl::GetFlag(FLAGS_tls_key_file));
  }
  return grpc::SslCredentials(options);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "certbridge-health [--address=HOST:PORT] [--service=NAME] "
      "[--tls_ca_file=PEM [--tls_server_name=NAME] [--tls_cert_file=PEM "
      "--tls_key_file=PEM]]\n"
      "Exit status 0 when SERVING, 1 otherwise (for exec probes).");
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "health_probe_main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] {
    return absl::StrCat("certbridge-health ", certbridge::kBuildVersion,
                        " (revision ", certbridge::kBuildRevision, ")\n");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  grpc::ChannelArguments args;
  if (!absl::GetFlag(FLAGS_tls_server_name).empty()) {
    args.SetSslTargetNameOverride(absl::GetFlag(FLAGS_tls_server_name));
  }
  auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_address),
                                           Credentials(), args);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(absl::GetFlag(FLAGS_service));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    std::cerr << "certbridge-health: " << status.error_code() << ": "
              << status.error_message() << "\n";
    return 1;
  }
  const bool serving =
      response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                   response.status())
            << "\n";
  return serving ? 0 : 1;
}
