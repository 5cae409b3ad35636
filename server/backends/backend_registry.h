// The configured backend instances by name: the service routes each parsed
// resource name through here.
#ifndef CERTBRIDGE_SERVER_BACKENDS_BACKEND_REGISTRY_H_
#define CERTBRIDGE_SERVER_BACKENDS_BACKEND_REGISTRY_H_

#include <map>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "server/backends/backend_connection.h"

namespace certbridge {

class BackendRegistry {
 public:
  void Add(std::unique_ptr<BackendConnection> connection);
  /// nullptr when no instance has that name.
  BackendConnection* Find(absl::string_view name) const;
  size_t size() const { return connections_.size(); }

 private:
  std::map<std::string, std::unique_ptr<BackendConnection>, std::less<>>
      connections_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_BACKEND_REGISTRY_H_
