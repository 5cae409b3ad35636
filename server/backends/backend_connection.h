// Wraps one backend instance's decorated stub with the call policies that
// are identical for every vendor. This is the only layer allowed to retry
// (resilience work extends it); today it counts attempts and stamps every
// error with the backend name and attempt count.
#ifndef CERTBRIDGE_SERVER_BACKENDS_BACKEND_CONNECTION_H_
#define CERTBRIDGE_SERVER_BACKENDS_BACKEND_CONNECTION_H_

#include <memory>
#include <string>

#include "server/backends/backend_stub.h"
#include "server/common/backend_types.h"

namespace certbridge {

class BackendConnection {
 public:
  BackendConnection(std::string name, BackendKind kind,
                    std::unique_ptr<BackendStub> stub);

  const std::string& name() const { return name_; }
  BackendKind kind() const { return kind_; }

  void CreateCertificate(std::shared_ptr<CallContext> ctx,
                         const v1::CreateCertificateRequest& request,
                         Done<v1::Certificate> done);
  void GetCertificate(std::shared_ptr<CallContext> ctx,
                      const v1::GetCertificateRequest& request,
                      Done<v1::Certificate> done);
  void UpdateCertificate(std::shared_ptr<CallContext> ctx,
                         const v1::UpdateCertificateRequest& request,
                         Done<v1::Certificate> done);
  void DeleteCertificate(std::shared_ptr<CallContext> ctx,
                         const v1::DeleteCertificateRequest& request,
                         Done<v1::DeleteCertificateResponse> done);

 private:
  template <typename T>
  Done<T> Annotate(std::shared_ptr<CallContext> ctx, Done<T> done) const;

  const std::string name_;
  const BackendKind kind_;
  const std::unique_ptr<BackendStub> stub_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_BACKEND_CONNECTION_H_
