#include "server/service/certificate_service.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/backends/call_context.h"
#include "server/common/errors.h"
#include "server/common/grpc_codes.h"
#include "server/common/grpc_status.h"
#include "server/common/happens_before.h"
#include "server/common/log.h"
#include "server/common/quote.h"
#include "server/common/trace_context.h"
#include "server/common/uuid.h"
#include "server/service/list_certificates.h"
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

std::string RequestIdOf(const grpc::CallbackServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find("x-request-id");
  if (it != md.end()) {
    absl::string_view id(it->second.data(), it->second.size());
    if (UsableRequestId(id)) return std::string(id);
  }
  return NewUuidV4();
}

// The caller's W3C trace context. A repeated traceparent is invalid (which
// one would be the parent?); repeated tracestate headers are one list
// (the spec's rule for HTTP fields), bounded in TraceContext::Parse.
TraceContext TraceOf(const grpc::CallbackServerContext& context) {
  const auto& md = context.client_metadata();
  absl::string_view traceparent;
  auto [first, last] = md.equal_range("traceparent");
  if (first != last && std::next(first) == last) {
    traceparent = absl::string_view(first->second.data(), first->second.size());
  }
  std::string tracestate;
  auto [sfirst, slast] = md.equal_range("tracestate");
  for (auto it = sfirst; it != slast; ++it) {
    // Enough to know the list is over its bound; no more is copied.
    if (tracestate.size() > TraceContext::kMaxTracestateBytes) break;
    if (!tracestate.empty()) tracestate.push_back(',');
    tracestate.append(it->second.data(), it->second.size());
  }
  return TraceContext::FromHeaders(traceparent, tracestate);
}

// gRPC reports "no deadline" as the far future.
constexpr absl::Duration kNoDeadline = absl::Hours(24 * 365 * 10);

// A caller's cancellation that arrives this close to its deadline is the
// deadline: the client cancels when its own timer fires, and that RST can
// reach us before our copy of the deadline, which starts when the call
// reached us -- later than the client started it by however long the
// request took to arrive (tens of milliseconds on a loaded host, more under
// TSan). An explicit cancel in the last quarter of the budget is counted as
// a deadline too; that is the lesser mistake. The budget is what was left
// when the handler started, which a busy host can shrink to almost nothing
// (a call queued for 247 of its 250 ms), so the slack never goes below
// 50 ms: otherwise the same arrival skew turns deadlines into cancels.
absl::Duration DeadlineSlack(absl::Duration budget) {
  return std::clamp(budget / 4, absl::Milliseconds(50),
                    absl::Milliseconds(250));
}

LogLevel LevelFor(grpc::StatusCode code, absl::string_view reason) {
  switch (code) {
    case grpc::StatusCode::OK:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAUTHENTICATED:
      return LogLevel::kInfo;
    case grpc::StatusCode::PERMISSION_DENIED:
      // A caller off the allow-list is the caller's problem; the backend
      // refusing certbridge's credentials is the operator's.
      return reason == "CALLER_NOT_ALLOWED" ? LogLevel::kInfo
                                            : LogLevel::kWarning;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::UNAVAILABLE:
      return LogLevel::kWarning;
    default:
      return LogLevel::kError;
  }
}

// One reactor per RPC: owns what the backend call refers to (the parsed
// name), forwards cancellation to it, and writes the access log line and
// the metrics when the RPC completes.
template <typename Name>
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  UnaryCall(grpc::CallbackServerContext* context, const char* method,
            absl::string_view resource, absl::Duration default_deadline,
            RpcObserver& observer)
      : context_(context),
        method_(method),
        resource_(BoundText(resource, 256)),
        start_(absl::Now()),
        observer_(observer) {
    observer_.OnStarted(method_);
    absl::Time deadline = absl::FromChrono(context->deadline());
    // The default applies to calls without a deadline only; a caller's own
    // deadline, shorter or longer, is honoured.
    if (deadline - start_ > kNoDeadline) deadline = start_ + default_deadline;
    deadline_ = deadline;
    call_ = std::make_shared<CallContext>(deadline, RequestIdOf(*context),
                                          TraceOf(*context));
    peer_ = BoundText(context->peer(), 128);
    if (auto auth = context->auth_context()) {
      caller_ = BoundText(CallerPolicy::Identity(*auth), 256);
    }
    // gRPC calls OnCancel only once the handler has returned this reactor,
    // possibly on another of its threads.
    CERTBRIDGE_HAPPENS_BEFORE(this);
  }

  std::shared_ptr<CallContext> call() const { return call_; }
  const Name& name() const { return *name_; }
  /// Held until the RPC is done (the response sent).
  void Hold(ByteBudget* budget, std::int64_t bytes) {
    budget_ = budget;
    held_ = bytes;
  }
  void set_target(BackendConnection* backend, Name name) {
    backend_ = backend->name();
    name_ = std::move(name);
  }

  /// The resource a successful Create made, for the log.
  void set_created(std::string name) { created_ = std::move(name); }
  /// A write that succeeded with a failed deployment somewhere:
  /// its state and the environments that failed.
  void set_deployment(std::string state, nlohmann::json failed_environments) {
    deployment_ = std::move(state);
    failed_environments_ = std::move(failed_environments);
  }

  /// Finishes the RPC; call exactly once.
  void Complete(absl::Status status) {
    if (status.code() == absl::StatusCode::kCancelled &&
        absl::Now() >= deadline_ - DeadlineSlack(deadline_ - start_)) {
      // Whichever side saw the deadline first, it is a deadline.
      status =
          MakeError(absl::StatusCode::kDeadlineExceeded,
                    "the call's deadline passed", reason::kDeadlineExceeded);
      if (!backend_.empty()) {
        SetErrorMetadata(status, metadata::kBackend, backend_);
      }
    }
    // The one edge every outcome passes: whatever a layer below let through,
    // the call's secrets and anything shaped like key material stop here,
    // for the caller and the log alike.
    SetErrorMetadata(status, metadata::kRequestId, call_->request_id());
    const absl::Status redacted = RedactStatus(status, call_->secrets());
    // The caller can quote the id (its own or the one made here) to an
    // operator; it is in every log line of the call.
    // gRPC's own retries (A6) retry only a Trailers-Only response (headers
    // mean the call is committed), and gRPC sends one only when the initial
    // metadata is empty: on a failure the id goes in the trailers, or no
    // client could retry an UNAVAILABLE.
    if (redacted.ok()) {
      context_->AddInitialMetadata("x-request-id", call_->request_id());
    } else {
      context_->AddTrailingMetadata("x-request-id", call_->request_id());
    }
    if (std::optional<std::string> pushback = RetryPushbackMs(redacted)) {
      // gRPC's retry reads the delay from here, not from RetryInfo.
      context_->AddTrailingMetadata(kRetryPushbackKey, *pushback);
    }
    grpc::Status out = ToGrpcStatus(redacted);
    Log(out);
    observer_.OnHandled(method_, out.error_code(), absl::Now() - start_);
    Finish(std::move(out));
  }

  void OnCancel() override {
    CERTBRIDGE_HAPPENS_AFTER(this);
    call_->Cancel();
  }
  void OnDone() override {
    if (budget_ != nullptr) budget_->Release(held_);
    delete this;
  }

 private:
  // Logs what the caller receives: the status after ToGrpcStatus bounded it.
  // The level says whose problem it is: the caller's (info), the backend's
  // or a limit's (warning), certbridge's own (error).
  void Log(const grpc::Status& status) const {
    const int code = static_cast<int>(status.error_code());
    std::optional<ErrorInfo> info;
    if (!status.ok()) info = GetErrorInfoFromDetails(status.error_details());
    nlohmann::json fields = {
        {"method", method_},
        {"resource", resource_},
        {"backend", backend_},
        {"code", GrpcCodeName(code)},
        {"attempts", call_->attempts()},
        {"latency_us", absl::ToInt64Microseconds(absl::Now() - start_)},
        {"request_id", call_->request_id()},
        {"trace_id", call_->trace().trace_id()},
        {"peer", peer_}};
    if (!caller_.empty()) fields["caller"] = caller_;
    if (!created_.empty()) fields["created"] = created_;
    if (!deployment_.empty()) {
      fields["deployment"] = deployment_;
      fields["failed_environments"] = failed_environments_;
    }
    if (!status.ok()) {
      if (info) fields["reason"] = info->reason;
      fields["error"] = status.error_message();
    }
    // OK with a failed deployment is the backend's problem to look at.
    const LogLevel level =
        deployment_.empty()
            ? LevelFor(status.error_code(), info ? info->reason : std::string())
            : LogLevel::kWarning;
    Logger::Get().Log(level, "rpc", fields);
  }

  grpc::CallbackServerContext* const context_;
  const char* method_;
  const std::string resource_;
  const absl::Time start_;
  absl::Time deadline_;
  RpcObserver& observer_;
  std::string backend_;
  std::string peer_;
  std::string caller_;
  std::string created_;
  std::string deployment_;
  nlohmann::json failed_environments_;
  std::optional<Name> name_;
  std::shared_ptr<CallContext> call_;
  ByteBudget* budget_ = nullptr;
  std::int64_t held_ = 0;
};

// What a call keeps in memory until it finishes: its request, and for an
// upload the body built from it once (retries share it).
template <typename Request>
std::int64_t HeldBytes(const Request& request) {
  constexpr std::int64_t kPerCall = std::int64_t{16} * 1024;
  std::int64_t held =
      kPerCall + 2 * static_cast<std::int64_t>(request.ByteSizeLong());
  if constexpr (std::is_same_v<Request, v1::ListCertificatesRequest>) {
    // A list holds the vendor's whole answer, parsed, and a page of it.
    constexpr std::int64_t kPerList = std::int64_t{1} << 20;
    held += kPerList;
  }
  return held;
}

absl::Status Overloaded(absl::string_view what) {
  absl::Status s = MakeError(
      absl::StatusCode::kResourceExhausted,
      absl::StrCat("certbridge is overloaded: ", what, "; try again shortly"),
      reason::kServerOverloaded);
  SetRetryDelay(s, absl::Seconds(1));
  return s;
}

template <typename Name, typename Response>
Done<Response> Finisher(UnaryCall<Name>* reactor, const Vendor& vendor,
                        Response* response) {
  return [reactor, &vendor, response](absl::StatusOr<Response> result) {
    if (result.ok()) {
      *response = *std::move(result);
      const v1::DeploymentResult* deployment = nullptr;
      if constexpr (std::is_same_v<Response, v1::ListCertificatesResponse>) {
        static_cast<void>(vendor);  // reads deploy nothing
      } else if constexpr (std::is_same_v<Response, v1::Certificate>) {
        if (std::is_same_v<Name, ParentName>) {
          reactor->set_created(response->name());
        }
        deployment = vendor.DeploymentOf(*response);
      } else {
        static_cast<void>(vendor);  // deletes report their own result
        deployment = &response->undeployment_result();
      }
      if (deployment != nullptr &&
          (deployment->state() == v1::DeploymentResult::PARTIALLY_FAILED ||
           deployment->state() == v1::DeploymentResult::FAILED)) {
        // Environment names come from the vendor: bounded, like every
        // vendor string that reaches a log.
        constexpr int kMaxListed = 16;
        nlohmann::json failed = nlohmann::json::array();
        for (const v1::EnvironmentResult& env :
             deployment->environment_results()) {
          if (env.success()) continue;
          if (failed.size() == kMaxListed) {
            failed.push_back("...");
            break;
          }
          failed.push_back(BoundText(env.environment(), 64));
        }
        reactor->set_deployment(
            v1::DeploymentResult::State_Name(deployment->state()),
            std::move(failed));
      }
      reactor->Complete(absl::OkStatus());
    } else {
      reactor->Complete(result.status());
    }
  };
}

}  // namespace

CertificateServiceImpl::CertificateServiceImpl(const BackendRegistry& registry,
                                               ServiceOptions options,
                                               RpcObserver* observer)
    : registry_(registry),
      options_(std::move(options)),
      observer_(observer != nullptr ? *observer : RpcObserver::Noop()),
      page_tokens_(options_.page_token_key.empty()
                       ? PageTokenCodec()
                       : PageTokenCodec(options_.page_token_key)) {}

// Every handler has the same shape: authorize, route (the one name check),
// validate for the backend's vendor, call the connection. Whatever fails
// first finishes the RPC; the connection's completion finishes it
// otherwise, on whichever thread completes the backend call.
template <typename Name, typename Request, typename Response, typename Route,
          typename Validate, typename Call>
grpc::ServerUnaryReactor* CertificateServiceImpl::Handle(
    grpc::CallbackServerContext* context, const char* method,
    absl::string_view resource, const Request& request, Response* response,
    Route route, Validate validate, Call call) {
  auto* reactor = new UnaryCall<Name>(context, method, resource,
                                      options_.default_deadline, observer_);
  if (options_.callers.restricted()) {
    absl::Status allowed = options_.callers.Check(*context->auth_context());
    if (!allowed.ok()) {
      reactor->Complete(std::move(allowed));
      return reactor;
    }
  }
  absl::StatusOr<Routed<Name>> routed = route();
  if (!routed.ok()) {
    reactor->Complete(routed.status());
    return reactor;
  }
  BackendConnection* backend = routed->backend;
  reactor->set_target(backend, std::move(routed->name));
  FileCheck file_check;
  const FileChecks checks{options_.checks != nullptr ? &file_check : nullptr,
                          options_.pkcs12};
  if (absl::Status s = validate(backend->vendor(), request, checks); !s.ok()) {
    reactor->Complete(std::move(s));
    return reactor;
  }
  if (options_.bytes != nullptr) {
    const std::int64_t held = HeldBytes(request);
    if (!options_.bytes->TryAcquire(held)) {
      reactor->Complete(Overloaded("too many bytes held by calls in flight"));
      return reactor;
    }
    reactor->Hold(options_.bytes, held);
  }
  auto start = [reactor, backend, response, call]() mutable {
    call(*backend, reactor->call(), reactor->name(),
         Finisher(reactor, backend->vendor(), response));
  };
  if (!file_check) {
    start();
    return reactor;
  }
  // Opening an upload costs milliseconds of CPU: never on a gRPC thread.
  const bool queued =
      options_.checks->TrySubmit([reactor, file_check = std::move(file_check),
                                  start = std::move(start)]() mutable {
        if (reactor->call()->cancelled()) {
          reactor->Complete(absl::CancelledError("the call was cancelled"));
          return;
        }
        if (absl::Status s = std::move(file_check)(); !s.ok()) {
          reactor->Complete(std::move(s));
          return;
        }
        start();
      });
  if (!queued) {
    reactor->Complete(Overloaded("too many certificate checks queued"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* CertificateServiceImpl::CreateCertificate(
    grpc::CallbackServerContext* context,
    const v1::CreateCertificateRequest* request, v1::Certificate* response) {
  return Handle<ParentName>(
      context, "CreateCertificate", request->parent(), *request, response,
      [&] { return RouteParent(registry_, request->parent(), "parent"); },
      [](const Vendor& vendor, const v1::CreateCertificateRequest& r,
         const FileChecks& checks) {
        return ValidateCreate(vendor, r, absl::Now(), checks);
      },
      [request](BackendConnection& backend, std::shared_ptr<CallContext> ctx,
                const ParentName& parent, Done<v1::Certificate> done) {
        backend.CreateCertificate(std::move(ctx), parent, *request,
                                  std::move(done));
      });
}

grpc::ServerUnaryReactor* CertificateServiceImpl::GetCertificate(
    grpc::CallbackServerContext* context,
    const v1::GetCertificateRequest* request, v1::Certificate* response) {
  return Handle<CertificateName>(
      context, "GetCertificate", request->name(), *request, response,
      [&] { return RouteCertificateName(registry_, request->name(), "name"); },
      [](const Vendor&, const v1::GetCertificateRequest&, const FileChecks&) {
        return absl::OkStatus();
      },
      [request](BackendConnection& backend, std::shared_ptr<CallContext> ctx,
                const CertificateName& name, Done<v1::Certificate> done) {
        backend.GetCertificate(std::move(ctx), name, *request, std::move(done));
      });
}

grpc::ServerUnaryReactor* CertificateServiceImpl::UpdateCertificate(
    grpc::CallbackServerContext* context,
    const v1::UpdateCertificateRequest* request, v1::Certificate* response) {
  return Handle<CertificateName>(
      context, "UpdateCertificate", request->certificate().name(), *request,
      response,
      [&] {
        return RouteCertificateName(registry_, request->certificate().name(),
                                    "certificate.name");
      },
      [](const Vendor& vendor, const v1::UpdateCertificateRequest& r,
         const FileChecks& checks) {
        return ValidateUpdate(vendor, r, absl::Now(), checks);
      },
      [request](BackendConnection& backend, std::shared_ptr<CallContext> ctx,
                const CertificateName& name, Done<v1::Certificate> done) {
        backend.UpdateCertificate(std::move(ctx), name, *request,
                                  std::move(done));
      });
}

grpc::ServerUnaryReactor* CertificateServiceImpl::DeleteCertificate(
    grpc::CallbackServerContext* context,
    const v1::DeleteCertificateRequest* request,
    v1::DeleteCertificateResponse* response) {
  return Handle<CertificateName>(
      context, "DeleteCertificate", request->name(), *request, response,
      [&] { return RouteCertificateName(registry_, request->name(), "name"); },
      [](const Vendor& vendor, const v1::DeleteCertificateRequest& r,
         const FileChecks&) { return ValidateDelete(vendor, r); },
      [request](BackendConnection& backend, std::shared_ptr<CallContext> ctx,
                const CertificateName& name,
                Done<v1::DeleteCertificateResponse> done) {
        backend.DeleteCertificate(std::move(ctx), name, *request,
                                  std::move(done));
      });
}

grpc::ServerUnaryReactor* CertificateServiceImpl::ListCertificates(
    grpc::CallbackServerContext* context,
    const v1::ListCertificatesRequest* request,
    v1::ListCertificatesResponse* response) {
  // Checked once before the backend call; the page is cut from its answer.
  auto plan = std::make_shared<ListPlan>();
  return Handle<ParentName>(
      context, "ListCertificates", request->parent(), *request, response,
      [&] { return RouteParent(registry_, request->parent(), "parent"); },
      [this, plan](const Vendor&, const v1::ListCertificatesRequest& r,
                   const FileChecks&) {
        auto checked = PlanList(r, page_tokens_);
        if (!checked.ok()) return checked.status();
        *plan = *std::move(checked);
        return absl::OkStatus();
      },
      [this, request, plan](
          BackendConnection& backend, std::shared_ptr<CallContext> ctx,
          const ParentName& parent, Done<v1::ListCertificatesResponse> done) {
        backend.ListCertificates(
            std::move(ctx), parent, *request,
            [this, request, plan, &vendor = backend.vendor(),
             done =
                 std::move(done)](absl::StatusOr<CertificateList> all) mutable {
              if (!all.ok()) {
                done(all.status());
                return;
              }
              done(BuildListPage(*request, *plan, vendor, *std::move(all),
                                 page_tokens_));
            });
      });
}

}  // namespace certbridge
