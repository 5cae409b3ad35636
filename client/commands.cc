#include "client/commands.h"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>
#include <utility>

#include "client/file_io.h"
#include "client/formats.h"
#include "client/output.h"
#include "client/request_builder.h"
#include "client/vendors/cli_vendor_registry.h"
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

int RpcError(const CommandIo& io, const absl::Status& status) {
  *io.err << FormatRpcError(status);
  // raw_code: a code outside the canonical set keeps its number (and its
  // exit code) instead of reading as UNKNOWN.
  return ExitCodeFor(static_cast<grpc::StatusCode>(status.raw_code()));
}

// --timeout is each call's deadline (retries included); --x_request_id goes
// out as the x-request-id correlation header.
CallOptions CallOptionsOf(const Command& command) {
  CallOptions call;
  call.timeout = command.timeout;
  call.correlation_id = command.x_request_id;
  return call;
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

// The first warning any vendor has about an OK result: every vendor is
// asked, as the result decides whose fields it carries.
template <typename Rule>
std::optional<CallWarning> FirstWarning(const Rule& rule) {
  for (const auto& vendor : BuiltinCliVendors().vendors()) {
    if (auto warning = rule(*vendor)) return warning;
  }
  return std::nullopt;
}

int PrintWithWarning(const Command& command, const CommandIo& io,
                     const absl::StatusOr<std::string>& json,
                     const std::optional<CallWarning>& warning) {
  const int printed = Print(command, io, json);
  if (printed != kExitOk || !warning) return printed;
  *io.err << warning->text;
  return warning->exit_code;
}

int Finish(const Command& command, const CommandIo& io,
           const absl::StatusOr<v1::Certificate>& result) {
  if (!result.ok()) return RpcError(io, result.status());
  const v1::Certificate& cert = *result;
  return PrintWithWarning(command, io, CertificateToJson(cert),
                          FirstWarning([&cert](const CliVendor& v) {
                            return v.WarningAfter(cert);
                          }));
}

// Every page from the command's page_token on, merged into one response.
constexpr int kMaxListPages = 10000;

int RunList(const Command& command, const CertificateClient& client,
            const CommandIo& io) {
  v1::ListCertificatesRequest request = BuildListRequest(command);
  v1::ListCertificatesResponse merged;
  for (int page = 0;; ++page) {
    absl::StatusOr<v1::ListCertificatesResponse> result =
        client.ListCertificates(request, CallOptionsOf(command));
    if (!result.ok()) return RpcError(io, result.status());
    v1::ListCertificatesResponse& response = *result;
    merged.set_total_size(response.total_size());
    merged.set_next_page_token(response.next_page_token());
    for (v1::Certificate& cert : *response.mutable_certificates()) {
      *merged.add_certificates() = std::move(cert);
    }
    if (!command.all || response.next_page_token().empty()) break;
    if (page + 1 == kMaxListPages ||
        response.next_page_token() == request.page_token()) {
      *io.err << "certctl: the server keeps returning pages; stopped after "
              << page + 1 << "\n";
      return kExitServerFailure;
    }
    request.set_page_token(response.next_page_token());
  }
  switch (FormatOf(command, io)) {
    case OutputFormat::kTable:
      *io.out << ListResponseToTable(merged, *command.vendor);
      return kExitOk;
    case OutputFormat::kName:
      for (const v1::Certificate& cert : merged.certificates()) {
        *io.out << cert.name() << "\n";
      }
      return kExitOk;
    case OutputFormat::kJson:
    case OutputFormat::kYaml:
      break;
  }
  return Print(command, io, ListResponseToJson(merged));
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
  // Borrowed, not owned: an aliasing shared_ptr with no owner.
  const CertificateClient client(
      std::shared_ptr<v1::CertificateService::StubInterface>(
          std::shared_ptr<void>(), &stub));
  return RunCommand(command, client, io);
}

int RunCommand(const Command& command, const CertificateClient& client,
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
    case Verb::kGet:
      return Finish(command, io,
                    client.GetCertificate(BuildGetRequest(command),
                                          CallOptionsOf(command)));
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
      return Finish(command, io,
                    client.CreateCertificate(*std::move(request),
                                             CallOptionsOf(command)));
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
      return Finish(command, io,
                    client.UpdateCertificate(*request, CallOptionsOf(command)));
    }
    case Verb::kList:
      return RunList(command, client, io);
    case Verb::kDelete: {
      absl::StatusOr<v1::DeleteCertificateResponse> result =
          client.DeleteCertificate(BuildDeleteRequest(command),
                                   CallOptionsOf(command));
      if (!result.ok()) return RpcError(io, result.status());
      const v1::DeleteCertificateResponse& response = *result;
      return PrintWithWarning(command, io, DeleteResponseToJson(response),
                              FirstWarning([&response](const CliVendor& v) {
                                return v.WarningAfterDelete(response);
                              }));
    }
  }
  return kExitLocalError;
}

}  // namespace certbridge::cli
