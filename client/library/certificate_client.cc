#include "client/library/certificate_client.h"

#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "server/common/uuid.h"

namespace certbridge {
namespace {

using Stub = v1::CertificateService::StubInterface;

template <typename Request, typename Response>
using BlockingMethod = grpc::Status (Stub::*)(grpc::ClientContext*,
                                              const Request&, Response*);
template <typename Request, typename Response>
using AsyncMethod = void (Stub::async_interface::*)(
    grpc::ClientContext*, const Request*, Response*,
    std::function<void(grpc::Status)>);

void PrepareContext(grpc::ClientContext& context,
                    const CertificateClientOptions& options,
                    const CallOptions& call) {
  // One deadline for the whole call: gRPC's retries share it, so a retried
  // call never outlives what its caller is willing to wait.
  context.set_deadline(absl::ToChronoTime(
      absl::Now() + call.timeout.value_or(options.default_timeout)));
  if (!call.correlation_id.empty()) {
    context.AddMetadata("x-request-id", call.correlation_id);
  }
}

template <typename Request, typename Response>
absl::StatusOr<Response> CallBlocking(Stub& stub,
                                      BlockingMethod<Request, Response> method,
                                      const Request& request,
                                      const CertificateClientOptions& options,
                                      const CallOptions& call) {
  grpc::ClientContext context;
  PrepareContext(context, options, call);
  Response response;
  const grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

// What one callback-based call owns until it completes. gRPC needs the
// context, request and response to stay put for the whole call.
template <typename Request, typename Response>
struct AsyncCall {
  grpc::ClientContext context;
  Request request;
  Response response;
  ResultCallback<Response> done;
};

}  // namespace

// Calls in flight, so that the stub -- and with it the channel -- is never
// released on a gRPC thread: destroying the last reference to a channel from
// one of its own callbacks breaks gRPC (grpc/grpc#37858; here an assertion
// in grpc_cq_internal_unref). The last client copy waits in ~Shared until
// every call has released its context, so the final channel reference goes
// on the caller's thread.
struct CertificateClient::Shared {
  explicit Shared(std::shared_ptr<Stub> s) : stub(std::move(s)) {}
  ~Shared() {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &in_flight));
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  void Started() {
    absl::MutexLock lock(&mu);
    ++in_flight;
  }
  void Finished() {
    absl::MutexLock lock(&mu);
    --in_flight;
  }

  const std::shared_ptr<Stub> stub;
  absl::Mutex mu;
  int in_flight ABSL_GUARDED_BY(mu) = 0;
};

namespace {

template <typename Request, typename Response>
void CallAsync(const std::shared_ptr<CertificateClient::Shared>& shared,
               AsyncMethod<Request, Response> method, Request request,
               ResultCallback<Response> done,
               const CertificateClientOptions& options,
               const CallOptions& call) {
  Stub::async_interface* async = shared->stub->async();
  if (async == nullptr) {
    done(absl::UnimplementedError(
        "this CertificateService stub has no callback API"));
    return;
  }
  auto state = std::make_shared<AsyncCall<Request, Response>>();
  state->request = std::move(request);
  state->done = std::move(done);
  PrepareContext(state->context, options, call);
  // Not owned: ~Shared waits for Finished() below.
  CertificateClient::Shared* tracker = shared.get();
  tracker->Started();
  (async->*method)(
      &state->context, &state->request, &state->response,
      [state, tracker](const grpc::Status& status) mutable {
        ResultCallback<Response> finish = std::move(state->done);
        absl::StatusOr<Response> result =
            status.ok() ? absl::StatusOr<Response>(std::move(state->response))
                        : absl::StatusOr<Response>(FromGrpcStatus(status));
        // The context (and its channel reference) goes first, then the
        // client may go; the caller's callback runs last, so it may destroy
        // or reuse whatever it likes -- except the last copy of the client.
        state.reset();
        tracker->Finished();
        finish(std::move(result));
      });
}

}  // namespace

CertificateClient::CertificateClient(
    std::shared_ptr<grpc::ChannelInterface> channel,
    CertificateClientOptions options)
    : shared_(
          std::make_shared<Shared>(v1::CertificateService::NewStub(channel))),
      options_(std::move(options)) {}

CertificateClient::CertificateClient(std::shared_ptr<Stub> stub,
                                     CertificateClientOptions options)
    : shared_(std::make_shared<Shared>(std::move(stub))),
      options_(std::move(options)) {}

std::string CertificateClient::EnsureRequestId(
    v1::CreateCertificateRequest& request) const {
  if (request.request_id().empty()) {
    request.set_request_id(options_.request_id_generator
                               ? options_.request_id_generator()
                               : NewUuidV4());
  }
  return request.request_id();
}

absl::StatusOr<v1::Certificate> CertificateClient::CreateCertificate(
    v1::CreateCertificateRequest request, const CallOptions& call) const {
  // Made once, before the first attempt: every retry gRPC makes re-sends
  // this same message, so the server sees one id however often it arrives.
  EnsureRequestId(request);
  return CallBlocking(*shared_->stub, &Stub::CreateCertificate, request,
                      options_, call);
}

absl::StatusOr<v1::Certificate> CertificateClient::GetCertificate(
    const v1::GetCertificateRequest& request, const CallOptions& call) const {
  return CallBlocking(*shared_->stub, &Stub::GetCertificate, request, options_,
                      call);
}

absl::StatusOr<v1::Certificate> CertificateClient::UpdateCertificate(
    const v1::UpdateCertificateRequest& request,
    const CallOptions& call) const {
  return CallBlocking(*shared_->stub, &Stub::UpdateCertificate, request,
                      options_, call);
}

absl::StatusOr<v1::DeleteCertificateResponse>
CertificateClient::DeleteCertificate(
    const v1::DeleteCertificateRequest& request,
    const CallOptions& call) const {
  return CallBlocking(*shared_->stub, &Stub::DeleteCertificate, request,
                      options_, call);
}

absl::StatusOr<v1::ListCertificatesResponse>
CertificateClient::ListCertificates(const v1::ListCertificatesRequest& request,
                                    const CallOptions& call) const {
  return CallBlocking(*shared_->stub, &Stub::ListCertificates, request,
                      options_, call);
}

void CertificateClient::CreateCertificateAsync(
    v1::CreateCertificateRequest request, ResultCallback<v1::Certificate> done,
    const CallOptions& call) const {
  EnsureRequestId(request);
  CallAsync<v1::CreateCertificateRequest, v1::Certificate>(
      shared_, &Stub::async_interface::CreateCertificate, std::move(request),
      std::move(done), options_, call);
}

void CertificateClient::GetCertificateAsync(
    v1::GetCertificateRequest request, ResultCallback<v1::Certificate> done,
    const CallOptions& call) const {
  CallAsync<v1::GetCertificateRequest, v1::Certificate>(
      shared_, &Stub::async_interface::GetCertificate, std::move(request),
      std::move(done), options_, call);
}

void CertificateClient::UpdateCertificateAsync(
    v1::UpdateCertificateRequest request, ResultCallback<v1::Certificate> done,
    const CallOptions& call) const {
  CallAsync<v1::UpdateCertificateRequest, v1::Certificate>(
      shared_, &Stub::async_interface::UpdateCertificate, std::move(request),
      std::move(done), options_, call);
}

void CertificateClient::DeleteCertificateAsync(
    v1::DeleteCertificateRequest request,
    ResultCallback<v1::DeleteCertificateResponse> done,
    const CallOptions& call) const {
  CallAsync<v1::DeleteCertificateRequest, v1::DeleteCertificateResponse>(
      shared_, &Stub::async_interface::DeleteCertificate, std::move(request),
      std::move(done), options_, call);
}

void CertificateClient::ListCertificatesAsync(
    v1::ListCertificatesRequest request,
    ResultCallback<v1::ListCertificatesResponse> done,
    const CallOptions& call) const {
  CallAsync<v1::ListCertificatesRequest, v1::ListCertificatesResponse>(
      shared_, &Stub::async_interface::ListCertificates, std::move(request),
      std::move(done), options_, call);
}

}  // namespace certbridge
