// Who may call: with mTLS, a caller is identified by its client
// certificate's SANs; an allow-list (URI SANs such as SPIFFE ids, or
// "dns:NAME") limits the identities. No list: any authenticated caller.
#ifndef CERTBRIDGE_SERVER_SERVICE_CALLER_POLICY_H_
#define CERTBRIDGE_SERVER_SERVICE_CALLER_POLICY_H_

#include <grpcpp/security/auth_context.h>

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

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_SERVICE_CALLER_POLICY_H_
