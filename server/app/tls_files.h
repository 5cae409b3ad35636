// Watches the gRPC listener's certificate and key files the way gRPC's own
// file watcher reloads them, and says -- as a JSON line and a metric --
// when what it would load is broken (a half-written file, a key that does
// not match, an expired certificate), instead of leaving only gRPC's raw
// handshake errors to find out with.
#ifndef CERTBRIDGE_SERVER_APP_TLS_FILES_H_
#define CERTBRIDGE_SERVER_APP_TLS_FILES_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/config/server_config.h"

namespace certbridge {

/// The certificate's expiry when `cert_file` and `key_file` hold a usable
/// pair (PEM, key matching the first certificate, valid at `now`).
absl::StatusOr<absl::Time> CheckServerCertificateFiles(
    const std::string& cert_file, const std::string& key_file, absl::Time now);

class TlsFileWatch {
 public:
  /// `report` gets every check's outcome after a change (ok + expiry, or
  /// not ok).
  using Report = std::function<void(bool ok, std::optional<absl::Time>)>;
  TlsFileWatch(ServerTlsConfig config, Report report);

  /// Looks at the files; validates and reports when they changed (and the
  /// first time). Cheap when nothing changed (two stat calls).
  void Check();

 private:
  const ServerTlsConfig config_;
  const Report report_;
  std::string last_version_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_APP_TLS_FILES_H_
