// Who may call: with mTLS, a caller is identified by its client
// certificate's SANs; an allow-list (URI SANs such as SPIFFE ids, or
// "dns:NAME") limits the identities. No list: any authenticated caller.
#ifndef CERTBRIDGE_SERVER_SERVICE_CALLER_POLICY_H_
#define CERTBRIDGE_SERVER_SERVICE_CALLER_POLICY_H_

#include <grpcpp/security/auth_context.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace certbridge {

class CallerPolicy {
 public:
  CallerPolicy() = default;
  explicit CallerPolicy(const std::vector<std::string>& allowed);

  /// OK, or PERMISSION_DENIED / CALLER_NOT_ALLOWED naming the identities
  /// seen (certificate SANs are not secrets).
  absl::Status Check(const grpc::AuthContext& auth) const;

  bool restricted() const { return !uris_.empty() || !dns_.empty(); }

  /// Who the caller is, for the audit log: its first URI SAN (e.g. a
  /// SPIFFE id), else "dns:" and its first DNS SAN; "" without a client
  /// certificate.
  static std::string Identity(const grpc::AuthContext& auth);

 private:
  std::set<std::string> uris_;
  std::set<std::string> dns_;
};

/// Applies a CallerPolicy to every call on a TLS listener, whatever the
/// service -- health and reflection included, which the certificate
/// service's own check cannot see. A refused call gets PERMISSION_DENIED
/// from gRPC; the certificate service repeats the check to add ErrorInfo.
class CallerPolicyProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit CallerPolicyProcessor(CallerPolicy policy)
      : policy_(std::move(policy)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  const CallerPolicy policy_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_SERVICE_CALLER_POLICY_H_
