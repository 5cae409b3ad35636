#include "client/commands.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/file_io.h"
#include "client/formats.h"
#include "client/output.h"
#include "client/request_builder.h"
#include "grpcpp/client_context.h"
#include "server/app/build_info.h"
#include "server/common/uuid.h"

namespace certbridge::cli {
namespace {

int LocalError(const CommandIo& io, const absl::Status& status) {
  *io.err << "certctl: " << status.message() << "\n";
  return kExitLocalError;
}

OutputFormat FormatOf(const Command& command, const CommandIo& io) {
  if (command.output) return *command.output;
  return io.out_is_terminal ? OutputFormat::kTable : OutputFormat::kJson;
}

int RpcError(const CommandIo& io, const grpc::Status& status) {
  *io.err << FormatRpcError(status);
  return ExitCodeFor(status.error_code());
}

std::unique_ptr<grpc::ClientContext> MakeContext(const Command& command) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + command.timeout));
  if (!command.x_request_id.empty()) {
    context->AddMetadata("x-request-id", command.x_request_id);
  }
  return context;
}

int Print(const Command& command, const CommandIo& io,
          const absl::StatusOr<std::string>& json) {
  if (!json.ok()) return LocalError(io, json.status());
  absl::StatusOr<std::string> text = *json + "\n";
  switch (FormatOf(command, io)) {
    case OutputFormat::kJson:
      break;
    case OutputFormat::kYaml:
      text = JsonToYaml(*json);
      break;
    case OutputFormat::kTable:
      text = JsonToTable(*json);
      break;
    case OutputFormat::kName:
      text = JsonToName(*json);
      break;
  }
  if (!text.ok()) return LocalError(io, text.status());
  *io.out << *text;
  return kExitOk;
}

// OK, but a failed (un)deployment is still a failure to a script.
int PrintWithDeployment(const Command& command, const CommandIo& io,
                        const absl::StatusOr<std::string>& json,
                        const v1::DeploymentResult* deployment) {
  const int printed = Print(command, io, json);
  if (printed != kExitOk || deployment == nullptr) return printed;
  if (auto w = DeploymentWarning(*deployment)) {
    *io.err << *w;
    return kExitDeploymentFailed;
  }
  return kExitOk;
}

int Finish(const Command& command, const CommandIo& io,
           const grpc::Status& status, const v1::Certificate& cert) {
  if (!status.ok()) return RpcError(io, status);
  return PrintWithDeployment(
      command, io, CertificateToJson(cert),
      cert.has_apinizer() ? &cert.apinizer().deployment_result() : nullptr);
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

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitBadRequest;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return kExitConflict;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return kExitDenied;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return kExitRetryLater;
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNIMPLEMENTED:
      return kExitServerFailure;
    default:
      return kExitRpcFailed;
  }
}

CommandIo ProcessIo() {
  CommandIo io;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.out_is_terminal = isatty(STDOUT_FILENO) == 1;
  io.new_request_id = [] { return NewUuidV4(); };
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
    case Verb::kVersion:
      *io.out << "certctl " << kBuildVersion << " (revision " << kBuildRevision
              << ")\n";
      return kExitOk;
    case Verb::kCompletion:
      *io.out << BashCompletion();
      return kExitOk;
    case Verb::kGet: {
      auto context = MakeContext(command);
      v1::Certificate cert;
      const grpc::Status status =
          stub.GetCertificate(context.get(), BuildGetRequest(command), &cert);
      return Finish(command, io, status, cert);
    }
    case Verb::kCreate: {
      auto inputs = ReadInputs(command, io);
      if (!inputs.ok()) return LocalError(io, inputs.status());
      Command with_id = command;
      if (with_id.request_id.empty() && io.new_request_id) {
        // Every create carries one, so repeating a create whose answer was
        // lost cannot make a second certificate.
        with_id.request_id = io.new_request_id();
        *io.err << "certctl: request_id " << with_id.request_id
                << " (repeat a failed create with --request_id="
                << with_id.request_id << ")\n";
      }
      auto request = BuildCreateRequest(with_id, *inputs);
      if (!request.ok()) return LocalError(io, request.status());
      auto context = MakeContext(command);
      v1::Certificate cert;
      const grpc::Status status =
          stub.CreateCertificate(context.get(), *request, &cert);
      return Finish(command, io, status, cert);
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
      return Finish(command, io, status, cert);
    }
    case Verb::kDelete: {
      auto context = MakeContext(command);
      v1::DeleteCertificateResponse response;
      const grpc::Status status = stub.DeleteCertificate(
          context.get(), BuildDeleteRequest(command), &response);
      if (!status.ok()) return RpcError(io, status);
      return PrintWithDeployment(command, io, DeleteResponseToJson(response),
                                 &response.undeployment_result());
    }
  }
  return kExitLocalError;
}

}  // namespace certbridge::cli
