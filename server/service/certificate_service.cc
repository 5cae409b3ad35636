#include "server/service/certificate_service.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/backends/call_context.h"
#include "server/common/errors.h"
#include "server/common/grpc_status.h"
#include "server/common/log.h"
#include "server/service/request_validation.h"

namespace certbridge {
namespace {

// Printable ASCII up to 128 bytes: the id travels to backends as a header
// and into logs, so anything else is replaced with a fresh one.
bool UsableRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local absl::BitGen gen;
  const uint64_t a = absl::Uniform<uint64_t>(gen);
  const uint64_t b = absl::Uniform<uint64_t>(gen);
  // UUID version 4 layout.
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", a >> 32,
                         (a >> 16) & 0xffff, a & 0xfff,
                         ((b >> 48) & 0x3fff) | 0x8000, b & 0xffffffffffff);
}

std::string RequestIdOf(const grpc::CallbackServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find("x-request-id");
  if (it != md.end()) {
    absl::string_view id(it->second.data(), it->second.size());
    if (UsableRequestId(id)) return std::string(id);
  }
  return NewRequestId();
}

// One reactor per RPC: forwards cancellation to the backend call and writes
// the access log line when the RPC completes.
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  UnaryCall(grpc::CallbackServerContext* context, const char* method,
            std::string resource, absl::Duration default_deadline,
            RpcObserver& observer)
      : method_(method),
        resource_(std::move(resource)),
        start_(absl::Now()),
        observer_(observer) {
    observer_.OnStarted(method_);
    absl::Time deadline = absl::FromChrono(context->deadline());
    // gRPC reports "no deadline" as the far future.
    if (deadline > start_ + default_deadline) {
      deadline = start_ + default_deadline;
    }
    call_ = std::make_shared<CallContext>(deadline, RequestIdOf(*context));
  }

  std::shared_ptr<CallContext> call() const { return call_; }
  void set_backend(std::string backend) { backend_ = std::move(backend); }

  /// Finishes the RPC; call exactly once.
  void Complete(const absl::Status& status) {
    Log(status);
    grpc::Status out = ToGrpcStatus(status);
    observer_.OnHandled(method_, out.error_code(), absl::Now() - start_);
    Finish(std::move(out));
  }

  void OnCancel() override { call_->Cancel(); }
  void OnDone() override { delete this; }

 private:
  void Log(const absl::Status& status) const {
    nlohmann::json fields = {
        {"method", method_},
        {"resource", resource_},
        {"backend", backend_},
        {"code", absl::StatusCodeToString(status.code())},
        {"attempts", call_->attempts()},
        {"latency_ms", absl::ToDoubleMilliseconds(absl::Now() - start_)},
        {"request_id", call_->request_id()}};
    if (!status.ok()) {
      if (auto info = GetErrorInfo(status)) fields["reason"] = info->reason;
      fields["error"] = std::string(status.message());
    }
    Logger::Get().Log(status.ok() ? LogLevel::kInfo : LogLevel::kWarning, "rpc",
                      fields);
  }

  const char* method_;
  const std::string resource_;
  const absl::Time start_;
  RpcObserver& observer_;
  std::string backend_;
  std::shared_ptr<CallContext> call_;
};

// Runs validation and, when it passes, the backend call; the reactor is
// finished by whichever completes first with an answer.
template <typename Response>
Done<Response> Finisher(UnaryCall* reactor, Response* response) {
  return [reactor, response](absl::StatusOr<Response> result) {
    if (result.ok()) {
      *response = *std::move(result);
      reactor->Complete(absl::OkStatus());
    } else {
      reactor->Complete(result.status());
    }
  };
}

}  // namespace

bool CertificateServiceImpl::Authorized(grpc::CallbackServerContext* context,
                                        grpc::ServerUnaryReactor* reactor) {
  if (!options_.callers.restricted()) return true;
  absl::Status allowed = options_.callers.Check(*context->auth_context());
  if (allowed.ok()) return true;
  static_cast<UnaryCall*>(reactor)->Complete(allowed);
  return false;
}

CertificateServiceImpl::CertificateServiceImpl(const BackendRegistry& registry,
                                               ServiceOptions options,
                                               RpcObserver* observer)
    : registry_(registry),
      options_(std::move(options)),
      observer_(observer != nullptr ? *observer : RpcObserver::Noop()) {}

grpc::ServerUnaryReactor* CertificateServiceImpl::CreateCertificate(
    grpc::CallbackServerContext* context,
    const v1::CreateCertificateRequest* request, v1::Certificate* response) {
  auto* reactor = new UnaryCall(context, "CreateCertificate", request->parent(),
                                options_.default_deadline, observer_);
  if (!Authorized(context, reactor)) return reactor;
  auto backend = RouteParent(registry_, request->parent(), "parent");
  if (!backend.ok()) {
    reactor->Complete(backend.status());
    return reactor;
  }
  reactor->set_backend((*backend)->name());
  if (auto s = ValidateCreate((*backend)->kind(), *request, absl::Now());
      !s.ok()) {
    reactor->Complete(s);
    return reactor;
  }
  (*backend)->CreateCertificate(reactor->call(), *request,
                                Finisher(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* CertificateServiceImpl::GetCertificate(
    grpc::CallbackServerContext* context,
    const v1::GetCertificateRequest* request, v1::Certificate* response) {
  auto* reactor = new UnaryCall(context, "GetCertificate", request->name(),
                                options_.default_deadline, observer_);
  if (!Authorized(context, reactor)) return reactor;
  auto backend = RouteCertificateName(registry_, request->name(), "name");
  if (!backend.ok()) {
    reactor->Complete(backend.status());
    return reactor;
  }
  reactor->set_backend((*backend)->name());
  (*backend)->GetCertificate(reactor->call(), *request,
                             Finisher(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* CertificateServiceImpl::UpdateCertificate(
    grpc::CallbackServerContext* context,
    const v1::UpdateCertificateRequest* request, v1::Certificate* response) {
  auto* reactor =
      new UnaryCall(context, "UpdateCertificate", request->certificate().name(),
                    options_.default_deadline, observer_);
  if (!Authorized(context, reactor)) return reactor;
  auto backend = RouteCertificateName(registry_, request->certificate().name(),
                                      "certificate.name");
  if (!backend.ok()) {
    reactor->Complete(backend.status());
    return reactor;
  }
  reactor->set_backend((*backend)->name());
  if (auto s = ValidateUpdate((*backend)->kind(), *request, absl::Now());
      !s.ok()) {
    reactor->Complete(s);
    return reactor;
  }
  (*backend)->UpdateCertificate(reactor->call(), *request,
                                Finisher(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* CertificateServiceImpl::DeleteCertificate(
    grpc::CallbackServerContext* context,
    const v1::DeleteCertificateRequest* request,
    v1::DeleteCertificateResponse* response) {
  auto* reactor = new UnaryCall(context, "DeleteCertificate", request->name(),
                                options_.default_deadline, observer_);
  if (!Authorized(context, reactor)) return reactor;
  auto backend = RouteCertificateName(registry_, request->name(), "name");
  if (!backend.ok()) {
    reactor->Complete(backend.status());
    return reactor;
  }
  reactor->set_backend((*backend)->name());
  if (auto s = ValidateDelete((*backend)->kind(), *request); !s.ok()) {
    reactor->Complete(s);
    return reactor;
  }
  (*backend)->DeleteCertificate(reactor->call(), *request,
                                Finisher(reactor, response));
  return reactor;
}

}  // namespace certbridge
