#include "server/observability/process_metrics.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace certbridge {
namespace {

prometheus::MetricFamily One(const char* name, const char* help,
                             prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

// Seconds since the epoch at which the system booted (/proc/stat btime):
// start times in /proc/self/stat count clock ticks from boot.
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) {
      double t = 0;
      (void)absl::SimpleAtod(line.substr(6), &t);
      return t;
    }
  }
  return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  std::ifstream stat_file("/proc/self/stat");
  std::stringstream text;
  text << stat_file.rdbuf();
  const std::string stat = text.str();
  // The command name (field 2) may hold spaces: fields start after ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return out;
  std::vector<std::string> f =
      absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  // f[0] is field 3 (state): field N is f[N - 3].
  auto field = [&f](size_t n) {
    double v = 0;
    if (n >= 3 && n - 3 < f.size()) (void)absl::SimpleAtod(f[n - 3], &v);
    return v;
  };
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  out.push_back(One("process_cpu_seconds_total",
                    "Total user and system CPU time spent in seconds.",
                    MetricType::Counter, (field(14) + field(15)) / ticks));
  out.push_back(One("process_virtual_memory_bytes",
                    "Virtual memory size in bytes.", MetricType::Gauge,
                    field(23)));
  out.push_back(One("process_resident_memory_bytes",
                    "Resident memory size in bytes.", MetricType::Gauge,
                    field(24) * page));
  out.push_back(One("process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds.",
                    MetricType::Gauge, BootTime() + field(22) / ticks));
  out.push_back(One("process_threads", "Number of OS threads in the process.",
                    MetricType::Gauge, field(20)));
  std::error_code ignored;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ignored);
       it != std::filesystem::directory_iterator(); it.increment(ignored)) {
    ++fds;
  }
  out.push_back(One("process_open_fds", "Number of open file descriptors.",
                    MetricType::Gauge, fds));
  out.push_back(
      One("process_max_fds", "Maximum number of open file descriptors.",
          MetricType::Gauge, static_cast<double>(sysconf(_SC_OPEN_MAX))));
  return out;
}

}  // namespace certbridge
