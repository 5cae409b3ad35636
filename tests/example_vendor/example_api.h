// The example vendor's side of the emulator: its REST API, mounted on the
// shared emulator through EmulatorOptions::extra_apis. State is a map of
// id -> version, guarded by a mutex (handlers run concurrently).
#ifndef CERTBRIDGE_TESTS_EXAMPLE_VENDOR_EXAMPLE_API_H_
#define CERTBRIDGE_TESTS_EXAMPLE_VENDOR_EXAMPLE_API_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tests/emulator/backend_api.h"

namespace certbridge::example {

class ExampleApi final : public emulator::BackendApi {
 public:
  /// Served under this path; base_url = emulator base + kPrefix.
  static constexpr char kPrefix[] = "/example";
  static constexpr char kToken[] = "example-static-token";
  static constexpr char kClientId[] = "example-client";
  static constexpr char kClientSecret[] = "example-secret";

  absl::string_view name() const override { return "example"; }
  bool Serves(absl::string_view path) const override;
  emulator::HttpResponse Handle(const emulator::HttpRequest& request) override;
  void Reset() override;

  bool Has(const std::string& id) const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::int64_t> certs_ ABSL_GUARDED_BY(mu_);
  int issued_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace certbridge::example

#endif  // CERTBRIDGE_TESTS_EXAMPLE_VENDOR_EXAMPLE_API_H_
