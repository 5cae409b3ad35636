// certbridge.v1.CertificateService on gRPC's callback API. A handler
// validates, routes to the backend connection and returns at once; the
// connection's completion (on the HTTP engine's thread) fills the response
// and finishes the RPC. Handlers never block on backend I/O.
#ifndef CERTBRIDGE_SERVER_SERVICE_CERTIFICATE_SERVICE_H_
#define CERTBRIDGE_SERVER_SERVICE_CERTIFICATE_SERVICE_H_

#include <string>

#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.grpc.pb.h"
#include "server/backends/backend_registry.h"
#include "server/certificates/certificate_checks.h"
#include "server/resilience/byte_budget.h"
#include "server/service/caller_policy.h"
#include "server/service/check_pool.h"
#include "server/service/page_token.h"
#include "server/service/rpc_observer.h"

namespace certbridge {

struct ServiceOptions {
  /// Applied when a caller sets no deadline.
  absl::Duration default_deadline = absl::Seconds(60);
  /// Which authenticated callers may call (mTLS).
  CallerPolicy callers;
  /// Where uploaded files are opened; null: on the calling thread (tests).
  CheckPool* checks = nullptr;
  /// Bytes held by calls in flight; null: unbounded (tests).
  ByteBudget* bytes = nullptr;
  Pkcs12Limits pkcs12;
  /// Signs ListCertificates page tokens; empty: a random key made by the
  /// service (tokens then hold on this process only).
  std::string page_token_key;
};

class CertificateServiceImpl final
    : public v1::CertificateService::CallbackService {
 public:
  /// `registry` and `observer` (may be null) must outlive the service.
  CertificateServiceImpl(const BackendRegistry& registry,
                         ServiceOptions options,
                         RpcObserver* observer = nullptr);

  grpc::ServerUnaryReactor* CreateCertificate(
      grpc::CallbackServerContext* context,
      const v1::CreateCertificateRequest* request,
      v1::Certificate* response) override;
  grpc::ServerUnaryReactor* GetCertificate(
      grpc::CallbackServerContext* context,
      const v1::GetCertificateRequest* request,
      v1::Certificate* response) override;
  grpc::ServerUnaryReactor* UpdateCertificate(
      grpc::CallbackServerContext* context,
      const v1::UpdateCertificateRequest* request,
      v1::Certificate* response) override;
  grpc::ServerUnaryReactor* DeleteCertificate(
      grpc::CallbackServerContext* context,
      const v1::DeleteCertificateRequest* request,
      v1::DeleteCertificateResponse* response) override;
  grpc::ServerUnaryReactor* ListCertificates(
      grpc::CallbackServerContext* context,
      const v1::ListCertificatesRequest* request,
      v1::ListCertificatesResponse* response) override;

 private:
  /// The shape shared by every handler; see the .cc.
  template <typename Name, typename Request, typename Response, typename Route,
            typename Validate, typename Call>
  grpc::ServerUnaryReactor* Handle(grpc::CallbackServerContext* context,
                                   const char* method,
                                   absl::string_view resource,
                                   const Request& request, Response* response,
                                   Route route, Validate validate, Call call);

  const BackendRegistry& registry_;
  const ServiceOptions options_;
  RpcObserver& observer_;
  /// Signs ListCertificates page tokens (ServiceOptions::page_token_key).
  const PageTokenCodec page_tokens_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_SERVICE_CERTIFICATE_SERVICE_H_
