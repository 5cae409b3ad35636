// certbridge::CertificateClient: the C++ client library of
// certbridge.v1.CertificateService (docs/client.md).
//
//   auto channel = certbridge::CreateCertificateChannel(
//       "certbridge.example:50051", grpc::InsecureChannelCredentials());
//   certbridge::CertificateClient client(channel);
//   absl::StatusOr<v1::Certificate> cert = client.GetCertificate(request);
//   if (!cert.ok()) {
//     certbridge::ErrorDetails why =
//     certbridge::GetErrorDetails(cert.status());
//     ...  // why.reason, why.metadata, why.retry_delay
//   }
//
// Every RPC comes in two forms: blocking, returning absl::StatusOr (or
// absl::Status), and callback-based (XAsync), on gRPC's callback API: the
// callback runs once, on a gRPC thread, and must not block for long. Errors
// are absl::Status values carrying the server's ErrorInfo, RetryInfo and
// BadRequest (rpc_status.h).
//
// Retries are gRPC's own, driven by the channel's service config
// (client_channel.h); a retry re-sends the same message, so a Create keeps
// its request_id across attempts and certbridge answers a repeat with the
// first outcome instead of creating twice.
//
// A client is cheap to copy (copies share the channel) and safe to use from
// many threads at once (the request_id generator, if one is given, must be
// too).
#ifndef CERTBRIDGE_CLIENT_LIBRARY_CERTIFICATE_CLIENT_H_
#define CERTBRIDGE_CLIENT_LIBRARY_CERTIFICATE_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.grpc.pb.h"
#include "client/library/client_channel.h"
#include "client/library/rpc_status.h"
#include "grpcpp/channel.h"

namespace certbridge {

struct CertificateClientOptions {
  /// The deadline of a call whose CallOptions set none. It covers every
  /// attempt of the call, retries and backoff included.
  absl::Duration default_timeout = absl::Seconds(30);
  /// Makes the request_id of a Create that has none; unset: a random UUID
  /// (version 4). Injectable so tests can tell which id went out.
  std::function<std::string()> request_id_generator;
};

/// Per-call settings.
struct CallOptions {
  /// This call's deadline, instead of the client's default_timeout.
  std::optional<absl::Duration> timeout;
  /// Sent as `x-request-id` metadata: certbridge logs the call under it and
  /// returns it as ErrorInfo metadata `requestId`. A correlation id only --
  /// a Create's duplicate protection is its request_id field.
  std::string correlation_id;
};

template <typename T>
using ResultCallback = std::function<void(absl::StatusOr<T>)>;

class CertificateClient {
 public:
  /// Calls go over `channel`; make it with CreateCertificateChannel() so it
  /// carries the retry policy.
  explicit CertificateClient(std::shared_ptr<grpc::ChannelInterface> channel,
                             CertificateClientOptions options = {});
  /// Calls go through `stub` (e.g. a generated MockCertificateServiceStub in
  /// tests; a mock has no callback API, so XAsync then reports
  /// UNIMPLEMENTED).
  explicit CertificateClient(
      std::shared_ptr<v1::CertificateService::StubInterface> stub,
      CertificateClientOptions options = {});

  /// Sets request.request_id from the generator when it is empty, and
  /// returns it. The Create methods call it; call it first to learn (log,
  /// persist) the id before sending, e.g. to repeat the Create later.
  std::string EnsureRequestId(v1::CreateCertificateRequest& request) const;

  // Blocking.
  absl::StatusOr<v1::Certificate> CreateCertificate(
      v1::CreateCertificateRequest request, const CallOptions& call = {}) const;
  absl::StatusOr<v1::Certificate> GetCertificate(
      const v1::GetCertificateRequest& request,
      const CallOptions& call = {}) const;
  absl::StatusOr<v1::Certificate> UpdateCertificate(
      const v1::UpdateCertificateRequest& request,
      const CallOptions& call = {}) const;
  /// The response carries Apinizer's undeployment result: OK does not mean
  /// every environment succeeded (README "Reading Apinizer deployment
  /// results").
  absl::StatusOr<v1::DeleteCertificateResponse> DeleteCertificate(
      const v1::DeleteCertificateRequest& request,
      const CallOptions& call = {}) const;
  /// One page; follow next_page_token (same parent, filter and order_by)
  /// until it is empty.
  absl::StatusOr<v1::ListCertificatesResponse> ListCertificates(
      const v1::ListCertificatesRequest& request,
      const CallOptions& call = {}) const;

  // Callback-based: `done` runs exactly once, on a gRPC thread (or on the
  // calling thread when the call cannot start). The request is copied (or
  // moved) into the call, so the caller's may go at once. Destroying the
  // last copy of the client waits until its calls in flight have completed
  // (each within its deadline), so the channel is never released on a gRPC
  // thread, which gRPC does not survive (grpc/grpc#37858). For the same
  // reason, do not let the last copy of a client -- or the last reference
  // to its channel -- go inside one of its callbacks.
  void CreateCertificateAsync(v1::CreateCertificateRequest request,
                              ResultCallback<v1::Certificate> done,
                              const CallOptions& call = {}) const;
  void GetCertificateAsync(v1::GetCertificateRequest request,
                           ResultCallback<v1::Certificate> done,
                           const CallOptions& call = {}) const;
  void UpdateCertificateAsync(v1::UpdateCertificateRequest request,
                              ResultCallback<v1::Certificate> done,
                              const CallOptions& call = {}) const;
  void DeleteCertificateAsync(
      v1::DeleteCertificateRequest request,
      ResultCallback<v1::DeleteCertificateResponse> done,
      const CallOptions& call = {}) const;
  void ListCertificatesAsync(v1::ListCertificatesRequest request,
                             ResultCallback<v1::ListCertificatesResponse> done,
                             const CallOptions& call = {}) const;

  /// The stub and the calls in flight, shared by copies of a client.
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  CertificateClientOptions options_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_CLIENT_LIBRARY_CERTIFICATE_CLIENT_H_
