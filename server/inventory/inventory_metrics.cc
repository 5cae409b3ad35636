#include "server/inventory/inventory_metrics.h"

#include <algorithm>
#include <utility>

namespace certbridge {
namespace {

// Length of the UTF-8 sequence starting at text[i] when it is a valid,
// non-control character; 0 when it is not.
std::size_t CharLength(absl::string_view text, std::size_t i) {
  const auto b = static_cast<unsigned char>(text[i]);
  if (b < 0x20 || b == 0x7F) return 0;
  if (b < 0x80) return 1;
  std::size_t n = 0;
  unsigned int min = 0;
  unsigned int cp = 0;
  if ((b & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
    cp = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
    cp = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  // Overlong forms, surrogates and values past Unicode are not UTF-8;
  // C1 controls are as unreadable in a label as C0 ones.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
      (cp >= 0x80 && cp <= 0x9F)) {
    return 0;
  }
  return n;
}

// Reasons an alert is likely to name: present at 0 from the start, so a
// first failure shows as an increase.
constexpr const char* kPrecreatedReasons[] = {
    "BACKEND_UNAVAILABLE", "BACKEND_TIMEOUT", "BACKEND_AUTH_FAILED",
    "BACKEND_CIRCUIT_OPEN"};

}  // namespace

std::string InventoryLabel(absl::string_view text) {
  constexpr absl::string_view kCut = "...";
  std::string out;
  // A cut keeps this much of the input, so a huge name is not copied whole.
  const std::size_t scan = std::min(text.size(), kMaxInventoryLabelBytes * 2);
  out.reserve(scan);
  std::size_t i = 0;
  while (i < scan) {
    const std::size_t n = CharLength(text, i);
    if (n == 0) {
      out.push_back('?');
      ++i;
    } else {
      out.append(text.data() + i, n);
      i += n;
    }
  }
  if (out.size() <= kMaxInventoryLabelBytes && i >= text.size()) return out;
  std::size_t keep = kMaxInventoryLabelBytes - kCut.size();
  // `out` is UTF-8 now: back off continuation bytes to a boundary.
  while (keep > 0 && (static_cast<unsigned char>(out[keep]) & 0xC0) == 0x80) {
    --keep;
  }
  out.resize(keep);
  out.append(kCut.data(), kCut.size());
  return out;
}

InventoryMetrics::InventoryMetrics(prometheus::Registry& registry)
    : expiration_(prometheus::BuildGauge()
                      .Name("certbridge_certificate_expiration_timestamp_"
                            "seconds")
                      .Help("When a backend's certificate expires (unix "
                            "seconds), per environment where the vendor "
                            "dates each; from the last successful inventory "
                            "sweep.")
                      .Register(registry)),
      certificates_(prometheus::BuildGauge()
                        .Name("certbridge_certificates")
                        .Help("Certificates the last successful inventory "
                              "sweep listed.")
                        .Register(registry)),
      last_success_(prometheus::BuildGauge()
                        .Name("certbridge_inventory_last_success_timestamp_"
                              "seconds")
                        .Help("When the last inventory sweep succeeded (unix "
                              "seconds; 0 before the first).")
                        .Register(registry)),
      errors_(prometheus::BuildCounter()
                  .Name("certbridge_inventory_errors_total")
                  .Help("Failed inventory sweeps, by the failure's reason.")
                  .Register(registry)),
      dropped_(prometheus::BuildGauge()
                   .Name("certbridge_inventory_series_dropped")
                   .Help("Expiry series the last successful sweep left out "
                         "(beyond inventory.max_series).")
                   .Register(registry)),
      interval_(prometheus::BuildGauge()
                    .Name("certbridge_inventory_interval_seconds")
                    .Help("The configured time between inventory sweeps.")
                    .Register(registry)) {}

std::unique_ptr<BackendInventoryMetrics> InventoryMetrics::ForBackend(
    const std::string& backend) {
  return std::unique_ptr<BackendInventoryMetrics>(
      new BackendInventoryMetrics(*this, backend));
}

BackendInventoryMetrics::BackendInventoryMetrics(InventoryMetrics& metrics,
                                                 std::string backend)
    : m_(metrics),
      backend_(std::move(backend)),
      certificates_(m_.certificates_.Add({{"backend", backend_}})),
      last_success_(m_.last_success_.Add({{"backend", backend_}})),
      dropped_(m_.dropped_.Add({{"backend", backend_}})),
      interval_(m_.interval_.Add({{"backend", backend_}})) {
  for (const char* reason : kPrecreatedReasons) {
    m_.errors_.Add({{"backend", backend_}, {"reason", reason}});
  }
}

BackendInventoryMetrics::~BackendInventoryMetrics() = default;

void BackendInventoryMetrics::SetInterval(absl::Duration interval) {
  interval_.Set(absl::ToDoubleSeconds(interval));
}

void BackendInventoryMetrics::OnSweepSucceeded(
    const std::vector<ExpirySeries>& series, std::size_t certificates,
    std::size_t max_series, absl::Time now) {
  // Labels first: two raw values may clean or cut to the same label, and
  // then the earlier expiry is the one worth keeping.
  std::map<Key, absl::Time> wanted;
  for (const ExpirySeries& s : series) {
    Key key{InventoryLabel(s.project), InventoryLabel(s.certificate),
            InventoryLabel(s.environment)};
    auto [it, inserted] = wanted.emplace(std::move(key), s.expire_time);
    if (!inserted && s.expire_time < it->second) it->second = s.expire_time;
  }
  std::size_t dropped = 0;
  if (wanted.size() > max_series) {
    std::vector<std::pair<absl::Time, const Key*>> order;
    order.reserve(wanted.size());
    for (const auto& [key, t] : wanted) order.emplace_back(t, &key);
    // Ties by labels, so which series stay does not depend on the vendor's
    // order from one sweep to the next.
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    });
    std::map<Key, absl::Time> kept;
    for (std::size_t i = 0; i < max_series; ++i) {
      kept.emplace(*order[i].second, order[i].first);
    }
    dropped = wanted.size() - max_series;
    wanted = std::move(kept);
  }

  absl::MutexLock lock(&mu_);
  for (auto it = expiry_.begin(); it != expiry_.end();) {
    if (wanted.count(it->first) == 0) {
      m_.expiration_.Remove(it->second);
      it = expiry_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [key, t] : wanted) {
    prometheus::Gauge*& gauge = expiry_[key];
    if (gauge == nullptr) {
      gauge = &m_.expiration_.Add({{"backend", backend_},
                                   {"project", std::get<0>(key)},
                                   {"certificate", std::get<1>(key)},
                                   {"environment", std::get<2>(key)}});
    }
    gauge->Set(absl::ToDoubleSeconds(t - absl::UnixEpoch()));
  }
  certificates_.Set(static_cast<double>(certificates));
  dropped_.Set(static_cast<double>(dropped));
  last_success_.Set(absl::ToDoubleSeconds(now - absl::UnixEpoch()));
}

void BackendInventoryMetrics::OnSweepFailed(absl::string_view reason) {
  m_.errors_.Add({{"backend", backend_}, {"reason", std::string(reason)}})
      .Increment();
}

}  // namespace certbridge
