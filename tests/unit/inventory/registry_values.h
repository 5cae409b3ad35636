// Reading what a prometheus::Registry holds, for the inventory's tests: the
// value of one series, and how many series a family has.
#ifndef CERTBRIDGE_TESTS_UNIT_INVENTORY_REGISTRY_VALUES_H_
#define CERTBRIDGE_TESTS_UNIT_INVENTORY_REGISTRY_VALUES_H_

#include <prometheus/metric_type.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace certbridge {

inline constexpr char kExpiry[] =
    "certbridge_certificate_expiration_timestamp_seconds";

/// The value of the series of family `name` with exactly `labels`; nullopt
/// when there is none.
inline std::optional<double> Value(
    prometheus::Registry& registry, const std::string& name,
    const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      std::map<std::string, std::string> have;
      for (const auto& l : metric.label) have[l.name] = l.value;
      if (have != labels) continue;
      return family.type == prometheus::MetricType::Counter
                 ? metric.counter.value
                 : metric.gauge.value;
    }
  }
  return std::nullopt;
}

/// Series in family `name` (default: the expiry family).
inline std::size_t SeriesCount(prometheus::Registry& registry,
                               const std::string& name = kExpiry) {
  for (const auto& family : registry.Collect()) {
    if (family.name == name) return family.metric.size();
  }
  return 0;
}

}  // namespace certbridge

#endif  // CERTBRIDGE_TESTS_UNIT_INVENTORY_REGISTRY_VALUES_H_
