// The vendor-neutral interface every backend kind implements: one method per
// RPC over the API's proto types, one HTTP exchange per call (a vendor
// without a partial update does a documented read-modify-write), no
// retries: those live in BackendConnection only.
#ifndef CERTBRIDGE_SERVER_BACKENDS_BACKEND_STUB_H_
#define CERTBRIDGE_SERVER_BACKENDS_BACKEND_STUB_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "server/backends/call_context.h"
#include "server/common/resource_name.h"

namespace certbridge {

template <typename T>
using Done = absl::AnyInvocable<void(absl::StatusOr<T>)>;

/// The most certificates certbridge takes from one vendor list answer: the
/// whole collection is held (and filtered, ordered, paged) per call.
inline constexpr std::size_t kMaxListedCertificates = 10000;

/// A vendor's whole answer to a list, in the vendor's order, each
/// certificate as a Get would return it.
struct CertificateList {
  std::vector<v1::Certificate> certificates;
};

/// A vendor parser's verdict on a list answer as the stub reports it: the
/// certificates, or INTERNAL / BACKEND_LIST_TOO_LARGE when the parser stopped
/// at kMaxListedCertificates (OUT_OF_RANGE), or BACKEND_MALFORMED_RESPONSE
/// naming `http_status` for anything else it refused.
absl::StatusOr<CertificateList> ListedCertificates(
    absl::StatusOr<std::vector<v1::Certificate>> parsed,
    const std::string& backend, int http_status);

class BackendStub {
 public:
  virtual ~BackendStub() = default;

  // Each method completes `done` exactly once, normally on the transport's
  // thread. `parent`/`name` are the request's resource names as the service
  // parsed and validated them (stubs never parse caller text again); they
  // and `request` must stay valid until `done` runs (the service keeps them
  // alive until the RPC finishes). Defaults report UNIMPLEMENTED so a new
  // RPC can land before every vendor supports it.
  virtual void CreateCertificate(std::shared_ptr<CallContext> ctx,
                                 const ParentName& parent,
                                 const v1::CreateCertificateRequest& request,
                                 Done<v1::Certificate> done);
  virtual void GetCertificate(std::shared_ptr<CallContext> ctx,
                              const CertificateName& name,
                              const v1::GetCertificateRequest& request,
                              Done<v1::Certificate> done);
  virtual void UpdateCertificate(std::shared_ptr<CallContext> ctx,
                                 const CertificateName& name,
                                 const v1::UpdateCertificateRequest& request,
                                 Done<v1::Certificate> done);
  virtual void DeleteCertificate(std::shared_ptr<CallContext> ctx,
                                 const CertificateName& name,
                                 const v1::DeleteCertificateRequest& request,
                                 Done<v1::DeleteCertificateResponse> done);
  /// The whole collection under `parent` (the service filters, orders and
  /// pages it): an idempotent read, retried like Get.
  virtual void ListCertificates(std::shared_ptr<CallContext> ctx,
                                const ParentName& parent,
                                const v1::ListCertificatesRequest& request,
                                Done<CertificateList> done);

  /// A Create met "already exists" after an earlier attempt (or call with
  /// the same request_id) may have created the certificate: read it back
  /// and complete with it if it is what `request` asked for, else with
  /// `conflict`. The default (backends that cannot look a create up) keeps
  /// `conflict`.
  virtual void RecoverCreate(std::shared_ptr<CallContext> ctx,
                             const ParentName& parent,
                             const v1::CreateCertificateRequest& request,
                             absl::Status conflict, Done<v1::Certificate> done);
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_BACKEND_STUB_H_
