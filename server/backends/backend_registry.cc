#include "server/backends/backend_registry.h"

#include <utility>

namespace certbridge {

void BackendRegistry::Add(std::unique_ptr<BackendConnection> connection) {
  std::string name = connection->name();
  connections_[name] = std::move(connection);
}

BackendConnection* BackendRegistry::Find(absl::string_view name) const {
  auto it = connections_.find(name);
  return it == connections_.end() ? nullptr : it->second.get();
}

}  // namespace certbridge
