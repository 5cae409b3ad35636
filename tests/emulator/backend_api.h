// The seam between the emulator core and one vendor's REST API. The
// emulator handles transport, faults and recording, then hands each request
// to the first BackendApi that serves its path. Adding a vendor (Apinizer)
// means one class implementing this and one line in Emulator::Start.
#ifndef CERTBRIDGE_TESTS_EMULATOR_BACKEND_API_H_
#define CERTBRIDGE_TESTS_EMULATOR_BACKEND_API_H_

#include "absl/strings/string_view.h"
#include "tests/emulator/http_server.h"

namespace certbridge::emulator {

class BackendApi {
 public:
  virtual ~BackendApi() = default;
  /// The label recorded in RecordedRequest::api ("leegality", "apinizer").
  virtual absl::string_view name() const = 0;
  /// True when `path` (no query) belongs to this API.
  virtual bool Serves(absl::string_view path) const = 0;
  /// Handles one request (auth included). Called concurrently.
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
  /// Back to the initial, seeded state.
  virtual void Reset() = 0;
};

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_BACKEND_API_H_
