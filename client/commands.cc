#include "client/commands.h"

#include <iostream>
#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/file_io.h"
#include "client/output.h"
#include "client/request_builder.h"
#include "grpcpp/client_context.h"

namespace certbridge::cli {
namespace {

int LocalError(const CommandIo& io, const absl::Status& status) {
  *io.err << "certctl: " << status.message() << "\n";
  return kExitLocalError;
}

std::unique_ptr<grpc::ClientContext> MakeContext(const Command& command) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + command.timeout));
  if (!command.x_request_id.empty()) {
    context->AddMetadata("x-request-id", command.x_request_id);
  }
  return context;
}

int PrintJson(const CommandIo& io, const absl::StatusOr<std::string>& json) {
  if (!json.ok()) return LocalError(io, json.status());
  *io.out << *json << "\n";
  return kExitOk;
}

int Finish(const CommandIo& io, const grpc::Status& status,
           const v1::Certificate& cert) {
  if (!status.ok()) {
    *io.err << FormatRpcError(status);
    return kExitRpcFailed;
  }
  if (cert.has_apinizer()) {
    if (auto w = DeploymentWarning(cert.apinizer().deployment_result())) {
      *io.err << *w;
    }
  }
  return PrintJson(io, CertificateToJson(cert));
}

// The file and passkey a create/update needs, read before any RPC.
absl::StatusOr<LocalInputs> ReadInputs(const Command& command,
                                       const CommandIo& io) {
  LocalInputs inputs;
  if (command.file) {
    auto bytes = io.read_file(*command.file);
    if (!bytes.ok()) return bytes.status();
    inputs.file_bytes = *std::move(bytes);
  }
  if (NeedsPasskey(command)) {
    auto passkey = ResolvePasskey(command.passkey_file, command.passkey_env,
                                  io.env, io.prompt);
    if (!passkey.ok()) return passkey.status();
    inputs.passkey = *std::move(passkey);
  }
  return inputs;
}

}  // namespace

CommandIo ProcessIo() {
  CommandIo io;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.read_file = [](const std::string& path) {
    return ReadFileCapped(path, kMaxCertificateFileBytes);
  };
  io.env = &LookupProcessEnv;
  io.prompt = &PromptOnTerminal;
  return io;
}

int RunCommand(const Command& command,
               v1::CertificateService::StubInterface& stub,
               const CommandIo& io) {
  switch (command.verb) {
    case Verb::kHelp:
      *io.out << UsageText();
      return kExitOk;
    case Verb::kGet: {
      auto context = MakeContext(command);
      v1::Certificate cert;
      const grpc::Status status =
          stub.GetCertificate(context.get(), BuildGetRequest(command), &cert);
      return Finish(io, status, cert);
    }
    case Verb::kCreate: {
      auto inputs = ReadInputs(command, io);
      if (!inputs.ok()) return LocalError(io, inputs.status());
      auto request = BuildCreateRequest(command, *inputs);
      if (!request.ok()) return LocalError(io, request.status());
      auto context = MakeContext(command);
      v1::Certificate cert;
      const grpc::Status status =
          stub.CreateCertificate(context.get(), *request, &cert);
      return Finish(io, status, cert);
    }
    case Verb::kUpdate: {
      // Checked before reading anything, so a bad mask never prompts.
      if (auto probe = BuildUpdateRequest(command, LocalInputs{"", ""});
          !probe.ok()) {
        return LocalError(io, probe.status());
      }
      auto inputs = ReadInputs(command, io);
      if (!inputs.ok()) return LocalError(io, inputs.status());
      auto request = BuildUpdateRequest(command, *inputs);
      if (!request.ok()) return LocalError(io, request.status());
      auto context = MakeContext(command);
      v1::Certificate cert;
      const grpc::Status status =
          stub.UpdateCertificate(context.get(), *request, &cert);
      return Finish(io, status, cert);
    }
    case Verb::kDelete: {
      auto context = MakeContext(command);
      v1::DeleteCertificateResponse response;
      const grpc::Status status = stub.DeleteCertificate(
          context.get(), BuildDeleteRequest(command), &response);
      if (!status.ok()) {
        *io.err << FormatRpcError(status);
        return kExitRpcFailed;
      }
      if (auto w = DeploymentWarning(response.undeployment_result())) {
        *io.err << *w;
      }
      return PrintJson(io, DeleteResponseToJson(response));
    }
  }
  return kExitLocalError;
}

}  // namespace certbridge::cli
