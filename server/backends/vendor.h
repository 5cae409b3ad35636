// Everything certbridge knows about one vendor's API, behind one interface.
// A vendor folder (server/backends/<vendor>/) implements it completely and
// registers one instance (builtin_vendors.cc); the service, the connection
// policies, the transport and the configuration of common keys reach vendors
// only through a VendorRegistry, so adding one touches nothing else.
//
// Instances are immutable and shared by every backend of their kind and
// every thread.
#ifndef CERTBRIDGE_SERVER_BACKENDS_VENDOR_H_
#define CERTBRIDGE_SERVER_BACKENDS_VENDOR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "nlohmann/json.hpp"
#include "server/backends/backend_observer.h"
#include "server/backends/backend_stub.h"
#include "server/backends/token_protocol.h"
#include "server/backends/token_source.h"
#include "server/certificates/certificate_checks.h"
#include "server/config/server_config.h"
#include "server/http/http_transport.h"

namespace certbridge {

/// A check that opens an uploaded file (PKCS#12 or PEM with OpenSSL):
/// CPU-bound, so the service runs it on its check pool.
using FileCheck = absl::AnyInvocable<absl::Status() &&>;

/// How request validation treats the file checks it finds.
struct FileChecks {
  /// Null: run them at once. Else the one a request needs (if any) is
  /// stored here, referring to the request, which must outlive it.
  FileCheck* deferred = nullptr;
  Pkcs12Limits pkcs12;
};

/// One expiry of a certificate, as the inventory publishes it.
struct EnvironmentExpiry {
  /// The environment the date belongs to; "" when the vendor dates the
  /// certificate as a whole.
  std::string environment;
  absl::Time expire_time;
};

class Vendor : public TokenProtocol {
 public:
  ~Vendor() override = default;

  /// The configuration's `kind` value and the metric/log label:
  /// [a-z][a-z0-9_-]*.
  virtual absl::string_view kind() const = 0;
  /// For messages: the product's name, capitalised.
  virtual absl::string_view display_name() const = 0;

  // --- Resource names -----------------------------------------------------
  /// Whether names carry a project: backends/{b}/projects/{p}/certificates/
  /// {c} rather than backends/{b}/certificates/{c}.
  virtual bool names_have_project() const = 0;
  /// A further check of the last segment of a certificate name (e.g. "is a
  /// UUID"), INVALID_NAME naming `field`. The segment rules of
  /// resource_name.h have already been applied.
  virtual absl::Status CheckCertificateId(absl::string_view id,
                                          absl::string_view field) const;

  // --- Configuration ------------------------------------------------------
  // (The credential header used when `auth.header` is not set is the
  // stub's: WithDefaultAuthHeader in rest_exchange.h.)
  /// Validates the backend's `options` object (vendor-specific keys; the
  /// configuration parser keeps it verbatim). Errors name `path` + key.
  /// The default accepts an empty object only.
  virtual absl::Status CheckOptions(const nlohmann::json& options,
                                    absl::string_view path) const;

  // --- Requests, before any I/O -------------------------------------------
  /// Kind-specific checks (errors.md "Local validation"); the service has
  /// checked request_id and routing already. File checks go through
  /// `checks` so they can run on the check pool.
  virtual absl::Status ValidateCreate(const v1::CreateCertificateRequest& r,
                                      absl::Time now,
                                      const FileChecks& checks) const = 0;
  virtual absl::Status ValidateUpdate(const v1::UpdateCertificateRequest& r,
                                      absl::Time now,
                                      const FileChecks& checks) const = 0;
  virtual absl::Status ValidateDelete(
      const v1::DeleteCertificateRequest& r) const = 0;

  /// Vendors that deploy certificates to environments: the deployment a
  /// write reported (logged and counted when it partly failed). Default:
  /// none.
  virtual const v1::DeploymentResult* DeploymentOf(
      const v1::Certificate& certificate) const;

  /// When the certificate expires, as ListCertificates filters and orders
  /// on `expire_time`; nullopt when the vendor reported no usable time.
  /// Default: none.
  virtual std::optional<absl::Time> ExpireTimeOf(
      const v1::Certificate& certificate) const;
  /// Every expiry the vendor reports for the certificate: one per
  /// environment where it dates each deployment separately, else
  /// ExpireTimeOf's under environment "". Empty: no usable time.
  virtual std::vector<EnvironmentExpiry> ExpiriesOf(
      const v1::Certificate& certificate) const;

  // --- The REST API -------------------------------------------------------
  /// The stub speaking the vendor's API for one configured backend: one
  /// HTTP exchange per call, vendor quirks (status/body mapping) included,
  /// no retries (the connection's policies wrap it). `transport` outlives
  /// the stub; `observer` is never null.
  virtual std::unique_ptr<BackendStub> MakeStub(
      const BackendConfig& config, HttpTransport& transport,
      std::shared_ptr<TokenSource> tokens,
      std::shared_ptr<BackendObserver> observer) const = 0;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_VENDOR_H_
